"""The platform's topics, created explicitly by `up` (auto-creation is off)."""

from __future__ import annotations

# The two boundaries other systems are configured against (fixed names).
BILL_OF_ENTRY_FILED = "icegate.bill-of-entry.filed.v1"
E_GATEPASS_ISSUED = "custodian.e-gatepass.issued.v1"


def platform_topics(partitions: int) -> dict[str, int]:
    """Topic name -> partition count, each with its dead-letter topic."""
    names = [BILL_OF_ENTRY_FILED, E_GATEPASS_ISSUED]
    topics = {name: partitions for name in names}
    topics.update({f"{name}.dlq": 1 for name in names})
    return topics
