"""Kafka principals and ACLs, derived from the AsyncAPI document: the contract is the policy.

Every party of `clearance_contracts.topics()` (the five services, the upstream, each
custodian, any party a later catalogue entry names) is one SCRAM principal `User:<party>`.
What it may do follows from the operations on each channel:

- a party that *sends* on a channel (its owner; for a `.dlq` topic the services that
  consume the main topic) may WRITE (and DESCRIBE) that topic;
- a party that *receives* from a channel may READ (and DESCRIBE) it;
- a party may use one consumer group, its own name (a service's group is its name).

Nothing else is allowed (`allow.everyone.if.no.acl.found=false`): only be-intake writes
`clearance.bill-of-entry.*`, only ooc-issuer the OOC and gatepass topics, the upstream only
its `icegate.*` topic (and reads its rejections), a custodian reads only the gatepass
topics that name it as a consumer, with its own group. A new topic or consumer in
catalogue.yaml is a new permission at the next `up`, and a consumer removed from it loses
its permission (the provisioner deletes ACLs the document no longer implies).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clearance_contracts import TopicSpec

#: The bootstrap administrator: a super user that creates topics, users and ACLs, and that
#: operators' tools (dead-letter replay) and the test harness use. No service runs as it.
ADMIN_PRINCIPAL = "clearance-admin"
#: The operations console: an operator's tool that runs as a process of the platform. It
#: reads every dead-letter topic and replays a letter onto the topic it came from.
CONSOLE = "console"
#: The KRaft controller's own listener identity (SASL/PLAIN, static in server.properties).
CONTROLLER_PRINCIPAL = "clearance-controller"


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW entry: `principal` may `operation` the `resource` named `name`."""

    principal: str
    resource: str  # TOPIC | GROUP
    name: str
    operation: str  # READ | WRITE | DESCRIBE
    pattern: str = "LITERAL"

    def line(self) -> str:
        """A line of the provisioning tool's input (ClearanceKafkaAccess.java)."""
        fields = ("acl", self.principal, self.resource, self.pattern, self.name, self.operation)
        return "\t".join(fields)


def principal(party: str) -> str:
    return f"User:{party}"


def parties(specs: Iterable[TopicSpec]) -> tuple[list[str], list[str]]:
    """(services, external parties) named by the topics, each sorted."""
    every: set[str] = set()
    external: set[str] = set()
    for spec in specs:
        every.update(spec.producers, spec.consumers)
        external.update(spec.external_parties)
    return sorted((every - external) | {CONSOLE}), sorted(external)


def derive_acls(specs: Iterable[TopicSpec]) -> list[Acl]:
    """Every ACL the topics' send and receive operations imply, sorted, without repeats."""
    specs = list(specs)
    acls: set[Acl] = set()
    for spec in specs:
        for party in spec.producers:
            acls.add(Acl(principal(party), "TOPIC", spec.name, "WRITE"))
            acls.add(Acl(principal(party), "TOPIC", spec.name, "DESCRIBE"))
        for party in spec.consumers:
            acls.add(Acl(principal(party), "TOPIC", spec.name, "READ"))
            acls.add(Acl(principal(party), "TOPIC", spec.name, "DESCRIBE"))
        if spec.name.endswith(".dlq"):
            # The console reads dead letters and replays them onto their original topic.
            acls.add(Acl(principal(CONSOLE), "TOPIC", spec.name, "READ"))
            acls.add(Acl(principal(CONSOLE), "TOPIC", spec.name, "DESCRIBE"))
            original = spec.name.removesuffix(".dlq")
            acls.add(Acl(principal(CONSOLE), "TOPIC", original, "WRITE"))
            acls.add(Acl(principal(CONSOLE), "TOPIC", original, "DESCRIBE"))
    services, external = parties(specs)
    for party in (*services, *external):
        acls.add(Acl(principal(party), "GROUP", party, "READ"))
    return sorted(acls)


def may_write(acls: Iterable[Acl], party: str, topic: str) -> bool:
    return Acl(principal(party), "TOPIC", topic, "WRITE") in set(acls)


def may_read(acls: Iterable[Acl], party: str, topic: str) -> bool:
    return Acl(principal(party), "TOPIC", topic, "READ") in set(acls)
