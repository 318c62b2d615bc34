"""The RMS rule set: risk rules, random interdiction lanes and routing tables as data.

One effective-dated, versioned policy (`rms-rule-set`, files in
`rms_router/policies/`, new versions from an administrator over HTTP) holds:

- `rules`: each an `id`, a condition `when` (`domain/conditions.py`) and an
  outcome `then` (`select`: selections, `cite`: the RULES.md id the reason
  cites, `message`, optional `instructions` for the examining officer);
- `forced`: outcomes the engine applies whatever the conditions say, one per
  trigger: a failed BIS verdict (`bis_failed`), an export seal tampered at the
  customs station (`seal_tampered_at_export`, SEAL-TAMPER-1: must examine), an
  amendment that invalidates the assessment (`assessment_invalidated`,
  INTAKE-AMEND-1: must assess);
- `random_interdiction.lanes`: the first lane whose `when` holds is the BE's;
  it is interdicted with probability `rate`, drawn from a hash of the BE
  identity, version and rule-set version (RMS-LANES-1), so replays agree;
- `assessment_groups`: RMS-FAG-1, the Faceless Assessment Group and National
  Assessment Centre of each chapter or heading range (read, and routed by, the shared
  kernel's `clearance_domain.assessment_routing`; rms-router publishes each version's
  table on `clearance.assessment-routing.published.v1` for be-intake's CHCAI02);
- `partner_agencies`: the agencies whose NOC a tariff line needs, by CTH prefix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearance_domain import Reason
from clearance_domain.assessment_routing import AssessmentGroup, AssessmentRouting
from clearance_runtime.policies import PolicyKind

from rms_router.domain.conditions import Predicate, compile_condition, compile_item_condition

#: What a rule or lane may select (contract `selections`, RMS-3). First Check
#: (RMS-2) is examination before assessment and implies both.
SELECTIONS = ("first_check", "assessment", "examination", "scanning", "pga_noc")
TRIGGERS = ("bis_failed", "seal_tampered_at_export", "assessment_invalidated")
# What each forced outcome must at least select.
_FORCED_MINIMUM = {
    "bis_failed": frozenset(),
    "seal_tampered_at_export": frozenset({"examination"}),
    "assessment_invalidated": frozenset({"assessment"}),
}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Outcome:
    select: frozenset[str]
    cite: str
    message: str
    instructions: str | None = None

    def reason(self) -> Reason:
        return Reason.of(self.cite, self.message)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    when: Predicate
    then: Outcome
    description: str = ""
    # A rule whose condition is one `any_item`: the reason names each item that matched.
    item_condition: Predicate | None = None


@dataclass(frozen=True, slots=True)
class ForcedOutcome:
    id: str
    trigger: str
    then: Outcome


@dataclass(frozen=True, slots=True)
class Lane:
    id: str
    when: Predicate
    rate: float
    then: Outcome
    description: str = ""


@dataclass(frozen=True, slots=True)
class PartnerAgency:
    agency: str
    name: str
    prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    forced: Mapping[str, ForcedOutcome]
    lanes: tuple[Lane, ...]
    routing: AssessmentRouting
    partner_agencies: tuple[PartnerAgency, ...]

    def assessment_group(self, cth: str) -> AssessmentGroup | None:
        """RMS-FAG-1: the group of a tariff item's heading, if the table lists it."""
        return self.routing.group_of(cth)

    def agencies_for(self, cth: str) -> tuple[str, ...]:
        """The partner agencies whose NOC this tariff line needs (RMS-3)."""
        return tuple(a.agency for a in self.partner_agencies if cth.startswith(a.prefixes))


def parse_rule_set(body: Any) -> RuleSet:
    """Read (and so validate) a rule-set body; ValueError says what is wrong."""
    if not isinstance(body, Mapping):
        raise ValueError("a rule set is a JSON object")
    known = {"rules", "forced", "random_interdiction", "assessment_groups", "partner_agencies"}
    unknown = set(body) - known - {"notes"}
    if unknown:
        raise ValueError(f"unknown parts of a rule set: {sorted(unknown)}")
    rules = tuple(_rule(data, f"rules[{n}]") for n, data in enumerate(_list(body, "rules")))
    forced = _forced(_list(body, "forced"))
    interdiction = body.get("random_interdiction", {"lanes": []})
    if not isinstance(interdiction, Mapping):
        raise ValueError("random_interdiction: an object with `lanes`")
    lanes = tuple(
        _lane(data, f"random_interdiction.lanes[{n}]")
        for n, data in enumerate(_list(interdiction, "lanes"))
    )
    ids = [rule.id for rule in rules] + [f.id for f in forced.values()] + [ln.id for ln in lanes]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"rule ids are used twice: {duplicates}")
    routing = AssessmentRouting.parse(_list(body, "assessment_groups"))
    agencies = tuple(
        _agency(data, f"partner_agencies[{n}]")
        for n, data in enumerate(_list(body, "partner_agencies"))
    )
    return RuleSet(rules, forced, lanes, routing, agencies)


RULE_SET: PolicyKind[RuleSet] = PolicyKind(
    "rms-rule-set",
    parse_rule_set,
    "Risk rules, random interdiction lanes, faceless assessment groups (RMS-FAG-1) and "
    "partner agencies by tariff line (RMS-1..3, RMS-LANES-1)",
)


def _list(data: Mapping[str, Any], name: str) -> Sequence[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise ValueError(f"{name}: a list")
    return value


def _text(data: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}.{name}: text")
    return value


def _id(data: Mapping[str, Any], where: str) -> str:
    value = _text(data, "id", where)
    if not _ID.match(value):
        raise ValueError(f"{where}.id: {value!r} is not lower-case letters, digits and '-'")
    return value


def _closed(data: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: an object")
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}")
    return data


def _outcome(data: Any, where: str) -> Outcome:
    data = _closed(data, {"select", "cite", "message", "instructions"}, where)
    select = data.get("select")
    if not isinstance(select, list) or not set(select) <= set(SELECTIONS):
        raise ValueError(f"{where}.select: a list of {', '.join(SELECTIONS)}")
    cite = _text(data, "cite", where)
    try:
        Reason.of(cite, "-")
    except KeyError as error:
        raise ValueError(f"{where}.cite: {cite!r} is not a rule of RULES.md") from error
    instructions = data.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise ValueError(f"{where}.instructions: text")
    return Outcome(frozenset(select), cite, _text(data, "message", where), instructions)


def _rule(data: Any, where: str) -> Rule:
    data = _closed(data, {"id", "description", "when", "then"}, where)
    when = data.get("when")
    item_condition = None
    if isinstance(when, Mapping) and set(when) == {"any_item"}:
        item_condition = compile_item_condition(when["any_item"], f"{where}.when.any_item")
    return Rule(
        id=_id(data, where),
        when=compile_condition(when),
        then=_outcome(data.get("then"), f"{where}.then"),
        description=_text(data, "description", where, required=False),
        item_condition=item_condition,
    )


def _forced(entries: Sequence[Any]) -> dict[str, ForcedOutcome]:
    forced: dict[str, ForcedOutcome] = {}
    for n, data in enumerate(entries):
        where = f"forced[{n}]"
        data = _closed(data, {"id", "on", "then"}, where)
        trigger = data.get("on")
        if trigger not in TRIGGERS:
            raise ValueError(f"{where}.on: one of {', '.join(TRIGGERS)}")
        if trigger in forced:
            raise ValueError(f"{where}.on: {trigger} has two forced outcomes")
        outcome = _outcome(data.get("then"), f"{where}.then")
        missing = _FORCED_MINIMUM[trigger] - outcome.select
        if missing or not outcome.select:
            need = sorted(missing) or ["something"]
            raise ValueError(f"{where}.then.select: {trigger} must select {need}")
        forced[trigger] = ForcedOutcome(_id(data, where), trigger, outcome)
    absent = [trigger for trigger in TRIGGERS if trigger not in forced]
    if absent:
        raise ValueError(f"forced: no outcome for {absent}")
    return forced


def _lane(data: Any, where: str) -> Lane:
    data = _closed(data, {"id", "description", "when", "rate", "then"}, where)
    rate = data.get("rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ValueError(f"{where}.rate: a probability between 0 and 1")
    then = _outcome(data.get("then"), f"{where}.then")
    if not then.select:
        raise ValueError(f"{where}.then.select: an interdiction selects something")
    return Lane(
        id=_id(data, where),
        when=compile_condition(data.get("when", {"all": []})),
        rate=float(rate),
        then=then,
        description=_text(data, "description", where, required=False),
    )


def _agency(data: Any, where: str) -> PartnerAgency:
    data = _closed(data, {"agency", "name", "prefixes"}, where)
    prefixes = data.get("prefixes")
    if (
        not isinstance(prefixes, list)
        or not prefixes
        or not all(isinstance(p, str) and p.isdigit() and 2 <= len(p) <= 8 for p in prefixes)
    ):
        raise ValueError(f"{where}.prefixes: CTH prefixes of 2 to 8 digits")
    return PartnerAgency(_text(data, "agency", where), _text(data, "name", where), tuple(prefixes))
