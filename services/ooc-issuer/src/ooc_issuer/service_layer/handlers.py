"""What ooc-issuer does when any fact about a BE arrives: merge, decide, publish."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clearance_contracts import E_GATEPASS_ISSUED, OUT_OF_CHARGE_HELD, OUT_OF_CHARGE_ISSUED
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.unit_of_work import UnitOfWork

from ooc_issuer.adapters import repository
from ooc_issuer.domain.clearance import FACT_OF_EVENT, Decision, decide, facts_from


async def on_fact(event: CloudEvent, uow: UnitOfWork) -> None:
    """OOC-AUTO-1, OOC-BIS-1, OOC-WH-1, OOC-GP-1: decide as soon as the facts allow."""
    ref: dict[str, str] = event.data["bill_of_entry_ref"]
    facts, decided = await repository.merge_facts(
        uow.session, ref, facts_from(event.type, event.data)
    )
    if decided is not None:
        return
    decision = decide(facts)
    if decision is None:
        return
    numbers = await repository.record_decision(uow.session, ref, decision.issue, decision.reasons)
    if numbers is None:
        return
    now = datetime.now(UTC).isoformat()
    if decision.issue:
        _publish_out_of_charge(uow, event.subject, ref, facts, decision, numbers, now)
    else:
        uow.publish(
            OUT_OF_CHARGE_HELD,
            event.subject,
            {"bill_of_entry_ref": ref, "reasons": decision.reasons, "held_at": now},
        )
    DECISIONS.labels("ooc-issuer", "ooc", "issued" if decision.issue else "held").inc()


def _publish_out_of_charge(
    uow: UnitOfWork,
    subject: str,
    ref: dict[str, str],
    facts: dict[str, Any],
    decision: Decision,
    numbers: tuple[str | None, str | None],
    now: str,
) -> None:
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
