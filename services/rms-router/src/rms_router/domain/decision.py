"""The RMS decision on one BE version (pure): rules as data, forced outcomes, random
interdiction, faceless assessment group.

RMS-1: examination happens only after the RMS decides the facilitation level.
RMS-2: First Check, examination before assessment. RMS-3: facilitated,
assessment, examination, scanning, PGA NOC; several may combine. RMS-FAG-1:
the faceless assessment group by chapter/heading. RMS-QUEUE-1: a fully
facilitated BE goes to the OOC officer automatically. RMS-LANES-1: an element
of random interdiction, here drawn from a hash so that the same BE identity,
version and rule-set version always get the same decision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from clearance_domain import BillOfEntryRef, PolicyRef, Reason

from rms_router.domain.facts import RiskFacts
from rms_router.domain.rule_set import Outcome, RuleSet

# The order selections are listed in; First Check (examination before assessment)
# implies both.
_ORDER = ("first_check", "assessment", "examination", "scanning", "pga_noc")
# The primary lane (`outcome`) of a combination, most demanding first.
_PRIMARY = (
    ("first_check", "examination"),
    ("examination", "examination"),
    ("scanning", "scanning"),
    ("pga_noc", "pga_noc"),
    ("assessment", "assessment"),
)
_PHYSICAL = frozenset({"first_check", "examination", "scanning"})


def interdiction_draw(ref: BillOfEntryRef, rule_set_version: int) -> float:
    """RMS-LANES-1: a number in [0, 1) fixed by the BE identity, its version and the
    rule-set version (SHA-256), so a replay draws the same."""
    seed = f"{ref.key}|{ref.version}|{rule_set_version}".encode()
    return int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") / 2**64


@dataclass(frozen=True, slots=True)
class Interdiction:
    """The BE's lane, its rate and the draw: interdicted when the draw is below the rate."""

    lane: str
    rate: float
    draw: float

    @property
    def interdicted(self) -> bool:
        return self.draw < self.rate

    def to_data(self) -> dict[str, Any]:
        return {"lane": self.lane, "rate": self.rate, "draw": self.draw}


@dataclass(frozen=True, slots=True)
class RmsDecision:
    outcome: str  # the primary lane: facilitated | assessment | examination | scanning | pga_noc
    selections: tuple[str, ...]  # empty: facilitated (self-assessment accepted)
    assessment_group: str | None
    rule_set: PolicyRef
    fired_rules: tuple[str, ...]
    reasons: tuple[Reason, ...]
    examination_instructions: str | None = None
    partner_agencies: tuple[str, ...] = ()
    interdiction: Interdiction | None = None

    @property
    def facilitated(self) -> bool:
        return not self.selections

    def event_data(self, ref: BillOfEntryRef, decided_at: str) -> dict[str, Any]:
        """`clearance.rms-decision.made.v1`."""
        return {
            "bill_of_entry_ref": ref.to_data(),
            "outcome": self.outcome,
            "selections": list(self.selections),
            "assessment_group": self.assessment_group,
            "rule_set": self.rule_set.to_data(),
            "fired_rules": list(self.fired_rules),
            "examination_instructions": self.examination_instructions,
            "partner_agencies": list(self.partner_agencies),
            "reasons": [reason.to_data() for reason in self.reasons],
            "decided_at": decided_at,
        }


@dataclass
class _Selected:
    selections: set[str]
    fired: list[str]
    reasons: list[Reason]
    instructions: list[str]

    def add(self, rule_id: str, outcome: Outcome, reasons: Iterable[Reason]) -> None:
        self.selections |= outcome.select
        self.fired.append(rule_id)
        self.reasons.extend(reasons)
        if outcome.instructions and outcome.instructions not in self.instructions:
            self.instructions.append(outcome.instructions)


def decide(facts: RiskFacts, rule_set: RuleSet, rule_set_ref: PolicyRef) -> RmsDecision:
    """The decision on one BE version under one rule-set version (RMS-1..3, RMS-FAG-1,
    RMS-LANES-1, SEAL-TAMPER-1, INTAKE-AMEND-1)."""
    selected = _Selected(set(), [], [], [])

    def cite(reason: Reason) -> Reason:
        return Reason(
            reason.rule_id, reason.message, reason.item_sl_no, rule_set_ref, reason.source_document
        )

    triggered = {
        "bis_failed": facts.bis_verdict == "failed",
        "seal_tampered_at_export": facts.tampered_at_export,
        "assessment_invalidated": facts.assessment_invalidated,
    }
    for trigger, forced in rule_set.forced.items():
        if triggered[trigger]:
            selected.add(forced.id, forced.then, [cite(forced.then.reason())])

    context = facts.for_conditions(rule_set)
    for rule in rule_set.rules:
        if not rule.when(context, None):
            continue
        selected.add(rule.id, rule.then, _rule_reasons(rule.then, rule.item_condition, context))

    interdiction = _interdiction(facts, rule_set, rule_set_ref, context)
    if interdiction is not None and interdiction.interdicted:
        lane = next(lane for lane in rule_set.lanes if lane.id == interdiction.lane)
        message = (
            f"{lane.then.message} (lane {lane.id}: random interdiction at a rate of"
            f" {lane.rate:.2%}; this BE version drew {interdiction.draw:.4f})"
        )
        selected.add(lane.id, lane.then, [cite(Reason.of(lane.then.cite, message))])

    selections = set(selected.selections)
    if "first_check" in selections:
        selections |= {"examination", "assessment"}
    ordered = tuple(name for name in _ORDER if name in selections)
    outcome = next((lane for name, lane in _PRIMARY if name in selections), "facilitated")

    principal, group_line = rule_set.routing.route(facts.items)
    reasons = [cite(reason) for reason in selected.reasons]
    if principal is not None:
        reasons.append(cite(_group_reason(principal.cth, group_line)))
    if not ordered:
        reasons.append(
            cite(
                Reason.of(
                    "RMS-QUEUE-1",
                    "fully facilitated: self-assessment accepted, no examination, scanning or"
                    " PGA NOC; routed to the OOC officer automatically",
                )
            )
        )
    agencies: tuple[str, ...] = ()
    if "pga_noc" in selections:
        agencies = tuple(
            dict.fromkeys(a for item in context["items"] for a in item["item.partner_agencies"])
        )
    return RmsDecision(
        outcome=outcome,
        selections=ordered,
        assessment_group=group_line.group if group_line else None,
        rule_set=rule_set_ref,
        fired_rules=tuple(selected.fired),
        reasons=tuple(reasons),
        examination_instructions=(
            "; ".join(selected.instructions)
            if selections & _PHYSICAL and selected.instructions
            else None
        ),
        partner_agencies=agencies,
        interdiction=interdiction,
    )


def _rule_reasons(
    outcome: Outcome, item_condition: Any, context: Mapping[str, Any]
) -> list[Reason]:
    """One reason, or for a rule about items one per item it matched."""
    if item_condition is None:
        return [outcome.reason()]
    reasons = []
    for item in context["items"]:
        if not item_condition(context, item):
            continue
        detail = f"item {item['item.sl_no']}, CTH {item['item.cth']}"
        if item["item.partner_agencies"]:
            detail += f", NOC of {', '.join(item['item.partner_agencies'])}"
        reasons.append(
            Reason.of(outcome.cite, f"{outcome.message} ({detail})", item_sl_no=item["item.sl_no"])
        )
    return reasons


def _interdiction(
    facts: RiskFacts, rule_set: RuleSet, rule_set_ref: PolicyRef, context: Mapping[str, Any]
) -> Interdiction | None:
    """RMS-LANES-1: the first lane the BE belongs to, and its draw (None: no lane)."""
    for lane in rule_set.lanes:
        if lane.when(context, None):
            return Interdiction(
                lane.id, lane.rate, interdiction_draw(facts.ref, rule_set_ref.version)
            )
    return None


def _group_reason(cth: str, line: Any) -> Reason:
    if line is None:
        return Reason.of(
            "RMS-FAG-1",
            f"CTH {cth}: no Faceless Assessment Group is listed for heading {cth[:4]};"
            " assessed by the appraising group of the port",
        )
    return Reason.of(
        "RMS-FAG-1",
        f"CTH {cth} (headings {line.first_heading}-{line.last_heading}) is assessed by"
        f" Faceless Assessment Group {line.group}, {line.centre}",
    )
