"""The platform's topics, created explicitly by `up` (broker auto-creation is off)."""

from __future__ import annotations

from clearance_contracts import topics


def platform_topics(partitions: int) -> dict[str, int]:
    """Topic name -> partition count, from the AsyncAPI document in `contracts/`.

    Event topics get `partitions` (configuration) unless the document fixes a
    count; dead-letter topics, as the document says, usually one.
    """
    return {spec.name: spec.partitions or partitions for spec in topics()}
