"""What ooc-issuer does when facts about BEs arrive: apply them to the BEs' cases,
then, once per batch, decide every case the batch touched and let the cases'
events go to the outbox."""

from __future__ import annotations

from typing import Any

from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.tracing import current_carrier

from ooc_issuer.domain.case import CaseEvent, ClearanceCase, OutOfChargeIssued
from ooc_issuer.domain.facts import Fact
from ooc_issuer.service_layer.messages import FACT_EVENTS, facts_of, rendered
from ooc_issuer.service_layer.unit_of_work import Identity, OocUnitOfWork

_PENDING = "ooc-issuer.facts"  # the batch's facts, in arrival order, with their trace


async def on_fact(event: CloudEvent, uow: OocUnitOfWork) -> None:
    """Keep the fact; the batch's cases are decided together (`decide_touched`)."""
    pending: list[tuple[Fact, dict[str, str]]] = uow.batch.setdefault(_PENDING, [])
    carrier = current_carrier()
    pending.extend((fact, carrier) for fact in facts_of(event.type, event.data))
    uow.before_commit(_PENDING, decide_touched)


async def decide_touched(uow: OocUnitOfWork) -> None:
    """OOC-AUTO-1, OOC-BIS-1, OOC-WH-1, OOC-GP-1: apply the batch's facts to their
    cases (read locked, in one statement), decide each changed case, save them."""
    pending: list[tuple[Fact, dict[str, str]]] = uow.batch.pop(_PENDING)
    cases = await uow.cases.for_update(list(dict.fromkeys(f.ref.identity for f, _ in pending)))
    changed: dict[Identity, dict[str, str]] = {}
    for fact, carrier in pending:
        identity = fact.ref.identity
        if cases[identity].apply(fact):
            changed[identity] = carrier
        else:
            DECISIONS.labels("ooc-issuer", "fact", "stale").inc()
    await _decide(uow, {identity: cases[identity] for identity in changed})
    for identity, carrier in changed.items():
        uow.cases.save(cases[identity])
        uow.track(cases[identity], carrier)


async def _decide(uow: OocUnitOfWork, cases: dict[Identity, ClearanceCase]) -> None:
    decisions = {identity: d for identity, case in cases.items() if (d := case.pending_decision())}
    issuing = [identity for identity, decision in decisions.items() if decision.issue]
    numbers = iter(await uow.cases.numbers([identity[0] for identity in issuing]))
    now = uow.clock.now()
    for identity, decision in decisions.items():
        case = cases[identity]
        if decision.issue:
            case.issue(*next(numbers), decision, now)
        else:
            case.hold(decision, now)
        DECISIONS.labels("ooc-issuer", "ooc", "issued" if decision.issue else "held").inc()


def render_events(uow: Any, event: CaseEvent) -> None:
    """The unit of work's renderer: a case event as the contract events it becomes."""
    subject = event.ref.key
    for event_type, data in rendered(event):
        uow.publish(event_type, subject, data)
    if isinstance(event, OutOfChargeIssued):
        DECISIONS.labels("ooc-issuer", "gatepass", "issued").inc()


HANDLERS: dict[str, Handler] = dict.fromkeys(FACT_EVENTS, on_fact)
