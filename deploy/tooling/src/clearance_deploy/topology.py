"""Who may do what on Kafka, read from the AsyncAPI document: the contract is the access policy.

For every party of the document (the platform's services and the external parties such as the
ICEGATE-style upstream and the custodians) the ACLs follow from the operations on each channel
(`clearance_contracts.topics()`): a party that sends to a topic may Write it, a party that
receives from it may Read it, both may Describe it, and a party that receives anything may
Read its own consumer group. Nothing else is allowed. This is the model of issue 14: one Kafka
principal per service, one for the upstream, one per custodian (one for the custodians' party
until the e-Gatepass topic is split per custodian, issue 13).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from clearance_contracts import TopicSpec, topics

from clearance_deploy.components import COMPONENTS

#: Operations a sender and a receiver of a topic need (Describe: metadata, partition counts).
SEND = ("Describe", "Write")
RECEIVE = ("Describe", "Read")


@dataclass(frozen=True)
class Acl:
    """Allow `operations` on one Kafka resource (`topic` or `group`) named `name`; a `prefix`
    pattern matches every name starting with `name`."""

    resource_type: str
    name: str
    operations: tuple[str, ...]
    pattern: str = "literal"


@cache
def _topics() -> tuple[TopicSpec, ...]:
    return tuple(topics())


def parties() -> list[str]:
    """Every party of the document: the platform's components in their order, then the
    external parties in the order the document names them."""
    named: list[str] = []
    for spec in _topics():
        for party in (*spec.producers, *spec.consumers):
            if party not in named:
                named.append(party)
    own = [c.name for c in COMPONENTS if c.name in named]
    return own + [party for party in named if party not in own]


def external_parties() -> list[str]:
    """Parties outside the platform (operations marked `x-external`)."""
    external = {party for spec in _topics() for party in spec.external_parties}
    return [party for party in parties() if party in external]


def sends(party: str) -> list[TopicSpec]:
    """Topics `party` writes to (main topics it owns, dead-letter topics of what it reads)."""
    return [spec for spec in _topics() if party in spec.producers]


def receives(party: str) -> list[TopicSpec]:
    """Topics `party` reads."""
    return [spec for spec in _topics() if party in spec.consumers]


def consumer_group(party: str) -> Acl | None:
    """The consumer group ACL of `party`, if it reads anything.

    A service's group is its name (the runtime's `group_id`); an external party may use any
    group starting with its name (e.g. `custodians-INNSA1CFS1`), so each of its clients keeps
    its own offsets.
    """
    if not receives(party):
        return None
    if party in external_parties():
        return Acl("group", f"{party}", ("Read",), pattern="prefix")
    return Acl("group", party, ("Read",))


def acls(party: str) -> list[Acl]:
    """Every ACL of `party`, topics in document order, then its consumer group."""
    rules: list[Acl] = []
    for spec in _topics():
        operations: list[str] = []
        if party in spec.producers:
            operations += SEND
        if party in spec.consumers:
            operations += RECEIVE
        if operations:
            rules.append(Acl("topic", spec.name, tuple(sorted(set(operations)))))
    group = consumer_group(party)
    if group is not None:
        rules.append(group)
    return rules


def main_topics_read(party: str) -> list[TopicSpec]:
    """The main (not dead-letter) topics `party` consumes: what its consumer lag is about."""
    return [spec for spec in receives(party) if not spec.dead_letter]


def partitions_of(spec: TopicSpec, configured: int) -> int:
    """The partition count of `spec` where CLEARANCE_KAFKA_PARTITIONS is `configured`."""
    return spec.partitions if spec.partitions is not None else configured
