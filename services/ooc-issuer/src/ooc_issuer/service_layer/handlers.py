"""What ooc-issuer does when facts about BEs arrive: merge them, then, once per
batch, decide every BE whose facts are complete and publish the outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clearance_contracts import (
    E_GATEPASS_ISSUED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    bill_of_entry_key,
)
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.tracing import BILL_OF_ENTRY_ATTRIBUTE, context_from, current_carrier
from clearance_runtime.unit_of_work import UnitOfWork
from opentelemetry import trace

from ooc_issuer.adapters import repository
from ooc_issuer.domain.clearance import FACT_OF_EVENT, Decision, decide, facts_from

tracer = trace.get_tracer(__name__)
_TOUCHED = "ooc-issuer.touched"  # BE key -> (BE ref, trace context of its last fact)


async def on_fact(event: CloudEvent, uow: UnitOfWork) -> None:
    """Merge the fact; the decision follows once for the whole batch (`decide_touched`)."""
    ref: dict[str, str] = event.data["bill_of_entry_ref"]
    repository.merge_facts(uow, ref, facts_from(event.type, event.data))
    touched = uow.batch.setdefault(_TOUCHED, {})
    touched[bill_of_entry_key(**ref)] = (ref, current_carrier())
    uow.before_commit(_TOUCHED, decide_touched)


async def decide_touched(uow: UnitOfWork) -> None:
    """OOC-AUTO-1, OOC-BIS-1, OOC-WH-1, OOC-GP-1: decide every touched BE whose
    facts are complete, in one read and one write for the batch."""
    touched: dict[str, tuple[dict[str, str], dict[str, str]]] = uow.batch[_TOUCHED]
    cases = await repository.undecided_cases(uow.session, [ref for ref, _ in touched.values()])
    decided = [(ref, facts, decision) for ref, facts in cases if (decision := decide(facts))]
    numbers = await repository.record_decisions(
        uow.session, [(ref, decision.issue, decision.reasons) for ref, _, decision in decided]
    )
    now = datetime.now(UTC).isoformat()
    for ref, facts, decision in decided:
        subject = bill_of_entry_key(**ref)
        _, carrier = touched[subject]
        # The outcome continues the trace of the fact that completed the BE.
        with tracer.start_as_current_span(
            "decide out of charge",
            context=context_from(carrier.get("traceparent"), carrier.get("tracestate")),
            attributes={BILL_OF_ENTRY_ATTRIBUTE: subject},
        ):
            _publish(uow, subject, ref, facts, decision, numbers[subject], now)


def _publish(
    uow: UnitOfWork,
    subject: str,
    ref: dict[str, str],
    facts: dict[str, Any],
    decision: Decision,
    numbers: tuple[str | None, str | None],
    now: str,
) -> None:
    DECISIONS.labels("ooc-issuer", "ooc", "issued" if decision.issue else "held").inc()
    if not decision.issue:
        uow.publish(
            OUT_OF_CHARGE_HELD,
            subject,
            {"bill_of_entry_ref": ref, "reasons": decision.reasons, "held_at": now},
        )
        return
    ooc_no, gatepass_no = numbers
    be = facts["registered"]
    uow.publish(
        OUT_OF_CHARGE_ISSUED,
        subject,
        {
            "bill_of_entry_ref": ref,
            "ooc_no": ooc_no,
            "gatepass_no": gatepass_no,
            "mode": "automatic",
            "reasons": decision.reasons,
            "issued_at": now,
        },
    )
    uow.publish(
        E_GATEPASS_ISSUED,
        subject,
        {
            "gatepass_no": gatepass_no,
            "bill_of_entry_ref": ref,
            "ooc_no": ooc_no,
            "iec": be["iec"],
            "importer_name": be.get("importer_name") or "",
            "warehouse_code": be.get("warehouse_code"),
            "containers": [
                {"container_no": c["container_no"], "seal_no": c["seal_no"]}
                for c in be.get("containers") or []
            ],
            "package_count": None,
            "issued_at": now,
        },
    )


HANDLERS: dict[str, Handler] = dict.fromkeys(FACT_OF_EVENT, on_fact)
