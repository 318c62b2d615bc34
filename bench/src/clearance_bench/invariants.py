"""What must hold after a fault: read from the records the topics kept, never from timings.

Pure: the fault suite reads every record of the terminal, gatepass, duty-demand and
dead-letter topics once the pipeline has drained, and hands them here as `Record`s with
the BEs it filed. The checker reports, per invariant, the BE keys that break it:

- **lost**: a BE filed (one version) without any terminal event: cleared (OOC issued),
  held for an officer, rejected, or invalidated;
- **several_terminals**: a BE version with contradicting or repeated decisions: two OOCs
  or two rejections (distinct event ids), cleared and rejected, held and rejected, or an
  OOC on a BE that was also invalidated. A hold is not final in the same way: ooc-issuer
  announces a held case again when its reasons change (a payment recorded after the first
  hold, `Case` "announced again only when something changed"), and a hold may be lifted
  by an OOC; both are counted (`hold_updates`, `holds_lifted`), not reported. A record
  read twice under the same event id is a resend of one event (at-least-once delivery;
  consumers drop it by its id), counted apart as `resent`;
- **duplicate_ooc**: more than one OOC number, or one OOC under two event ids (OOC-GP-1);
- **duplicate_gatepass**: more than one `gatepass_no`, or one under two event ids, over all
  the custodians' gatepass topics (OOC-GP-1);
- **duplicate_duty_demand**: more than one duty demand (event id) per BE version
  (SEAL-ACK-1: the timer fires once);
- **unexplained_dead_letters**: a dead letter whose key is not one of the workload's
  deliberately invalid filings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from clearance_contracts import (
    BILL_OF_ENTRY_INVALIDATED,
    BILL_OF_ENTRY_REJECTED,
    DUTY_DEMAND_RAISED,
    E_GATEPASS_ISSUED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
)

DECISIONS: Mapping[str, str] = {
    OUT_OF_CHARGE_ISSUED: "cleared",
    OUT_OF_CHARGE_HELD: "held",
    BILL_OF_ENTRY_REJECTED: "rejected",
}
TERMINAL_TOPICS: tuple[str, ...] = (*DECISIONS, BILL_OF_ENTRY_INVALIDATED)
INVARIANTS = (
    "lost",
    "several_terminals",
    "duplicate_ooc",
    "duplicate_gatepass",
    "duplicate_duty_demand",
    "unexplained_dead_letters",
)


@dataclass(frozen=True)
class Record:
    """One record as read back: its topic, Kafka key, CloudEvent id, body and headers
    (text; a dead letter's say why and who gave up: `dlq_reason`, `dlq_consumer`)."""

    topic: str
    key: str
    event_id: str
    data: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def version(self) -> int:
        ref = self.data.get("bill_of_entry_ref")
        if isinstance(ref, Mapping) and isinstance(ref.get("version"), int):
            return int(ref["version"])
        return 1


@dataclass
class Verdict:
    """The BE keys breaking each invariant (empty lists: it held), and what was counted."""

    violations: dict[str, list[str]] = field(default_factory=lambda: {n: [] for n in INVARIANTS})
    terminal_kinds: dict[str, int] = field(default_factory=dict)
    resent: int = 0  # records read again under an event id already seen (not an effect)
    hold_updates: int = 0  # a held case announced again with other reasons
    holds_lifted: int = 0  # BE versions held, then cleared
    dead_letters: int = 0
    duty_demands: int = 0
    gatepasses: int = 0

    @property
    def holds(self) -> bool:
        return not any(self.violations.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "holds": self.holds,
            "violations": {name: keys[:50] for name, keys in self.violations.items()},
            "violation_counts": {name: len(keys) for name, keys in self.violations.items()},
            "terminal_kinds": self.terminal_kinds,
            "resent": self.resent,
            "hold_updates": self.hold_updates,
            "holds_lifted": self.holds_lifted,
            "dead_letters": self.dead_letters,
            "duty_demands": self.duty_demands,
            "gatepasses": self.gatepasses,
        }


def is_gatepass_topic(topic: str) -> bool:
    return topic == E_GATEPASS_ISSUED or topic.startswith(f"{E_GATEPASS_ISSUED}.")


def check(filed: Iterable[str], invalid: Iterable[str], records: Iterable[Record]) -> Verdict:
    """Check the invariants over the BE keys `filed` (version 1 each), of which `invalid`
    were made invalid on purpose, against every record read back."""
    verdict = Verdict()
    expected = set(filed)
    explained = set(invalid)
    seen: set[tuple[str, str]] = set()  # (topic, event id)
    decisions: dict[tuple[str, int, str], set[str]] = defaultdict(set)  # event ids per kind
    kinds: dict[tuple[str, int], set[str]] = defaultdict(set)
    oocs: dict[str, set[str]] = defaultdict(set)
    ooc_ids: dict[str, set[str]] = defaultdict(set)
    passes: dict[str, set[str]] = defaultdict(set)
    pass_ids: dict[str, set[str]] = defaultdict(set)
    demands: dict[tuple[str, int], set[str]] = defaultdict(set)
    unexplained: set[str] = set()
    for record in records:
        if record.topic.endswith(".dlq"):
            verdict.dead_letters += 1
            if record.key not in explained:
                unexplained.add(record.key)
            continue
        if (record.topic, record.event_id) in seen:
            verdict.resent += 1
            continue
        seen.add((record.topic, record.event_id))
        version = (record.key, record.version)
        if record.topic in DECISIONS:
            decisions[(*version, DECISIONS[record.topic])].add(record.event_id)
            kinds[version].add(DECISIONS[record.topic])
        elif record.topic == BILL_OF_ENTRY_INVALIDATED:
            kinds[version].add("invalidated")
        if record.topic == OUT_OF_CHARGE_ISSUED:
            oocs[record.key].add(str(record.data.get("ooc_no")))
            ooc_ids[record.key].add(record.event_id)
        elif is_gatepass_topic(record.topic):
            verdict.gatepasses += 1
            passes[record.key].add(str(record.data.get("gatepass_no")))
            pass_ids[record.key].add(record.event_id)
        elif record.topic == DUTY_DEMAND_RAISED:
            verdict.duty_demands += 1
            demands[version].add(record.event_id)
    v = verdict.violations
    v["lost"] = sorted(key for key in expected if not kinds.get((key, 1)))
    contradictions = ({"cleared", "rejected"}, {"held", "rejected"}, {"cleared", "invalidated"})
    v["several_terminals"] = sorted(
        {key for (key, _, kind), ids in decisions.items() if kind != "held" and len(ids) > 1}
        | {key for (key, _), ks in kinds.items() if any(c <= ks for c in contradictions)}
    )
    verdict.hold_updates = sum(
        len(ids) - 1 for (_, _, kind), ids in decisions.items() if kind == "held"
    )
    verdict.holds_lifted = sum(1 for ks in kinds.values() if {"held", "cleared"} <= ks)
    v["duplicate_ooc"] = sorted(key for key in oocs if len(oocs[key]) > 1 or len(ooc_ids[key]) > 1)
    v["duplicate_gatepass"] = sorted(
        key for key in passes if len(passes[key]) > 1 or len(pass_ids[key]) > 1
    )
    v["duplicate_duty_demand"] = sorted({key for (key, _), ids in demands.items() if len(ids) > 1})
    v["unexplained_dead_letters"] = sorted(unexplained)
    counted: dict[str, int] = defaultdict(int)
    for (be_key, be_version), ks in kinds.items():
        if be_key in expected and be_version == 1:
            for kind in ks:
                counted[kind] += 1
    verdict.terminal_kinds = dict(sorted(counted.items()))
    return verdict
