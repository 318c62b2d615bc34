"""The platform's topics, created explicitly by `up` (broker auto-creation is off)."""

from __future__ import annotations

from clearance_contracts import TopicSpec, topics

#: Kafka's topic-level setting for a topic kept by key rather than by time.
COMPACT: dict[str, str] = {"cleanup.policy": "compact"}


def platform_topics(partitions: int) -> dict[str, int]:
    """Topic name -> partition count, from the AsyncAPI document in `contracts/`.

    Event topics get `partitions` (configuration) unless the document fixes a
    count; dead-letter topics, as the document says, usually one.
    """
    return {spec.name: spec.partitions or partitions for spec in topics()}


def topic_config(spec: TopicSpec) -> dict[str, str]:
    """The topic-level Kafka configuration `spec` is created with.

    A compacted (reference) topic gets `cleanup.policy=compact`, so that the latest record of
    each key is kept however old; every other topic takes the broker's defaults.
    """
    return dict(COMPACT) if spec.compacted else {}


def platform_topic_configs() -> dict[str, dict[str, str]]:
    """Topic name -> topic-level configuration, for the topics that need any."""
    return {spec.name: config for spec in topics() if (config := topic_config(spec))}
