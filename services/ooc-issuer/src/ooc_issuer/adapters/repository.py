"""SQL of ooc-issuer: one row per BE's clearance case, read locked and written per batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from clearance_domain import AeoTier, BeType, BillOfEntryRef, Reason
from clearance_domain.reasons import reasons_data
from clearance_runtime.sql import IDENTITIES, identity_params
from clearance_runtime.unit_of_work import SqlUnitOfWork
from sqlalchemy import text

from ooc_issuer.domain.case import CaseState, ClearanceCase, Facts
from ooc_issuer.domain.facts import (
    BisOutcome,
    BisVerdict,
    Fact,
    GatepassContainer,
    Registered,
    RmsDecision,
    SealReconciliation,
)
from ooc_issuer.service_layer.unit_of_work import Identity

# Locked, so a BE is decided once even if another transaction touches it.
_FOR_UPDATE = text(
    f"SELECT c.* FROM clearance_case c JOIN {IDENTITIES} USING (port_code, be_no, be_date) "
    "FOR UPDATE OF c"
)
_SAVE = text(
    "INSERT INTO clearance_case (port_code, be_no, be_date, version, state, facts, "
    "held_reasons, out_of_charge_no, gatepass_no, issued_version, decided_at) "
    "VALUES (:port_code, :be_no, :be_date, :version, :state, CAST(:facts AS jsonb), "
    "CAST(:held_reasons AS jsonb), :out_of_charge_no, :gatepass_no, :issued_version, now()) "
    "ON CONFLICT (port_code, be_no, be_date) DO UPDATE SET version = EXCLUDED.version, "
    "state = EXCLUDED.state, facts = EXCLUDED.facts, held_reasons = EXCLUDED.held_reasons, "
    "out_of_charge_no = EXCLUDED.out_of_charge_no, gatepass_no = EXCLUDED.gatepass_no, "
    "issued_version = EXCLUDED.issued_version, decided_at = now()"
)
_NUMBERS = text(
    "SELECT p.port_code || '-OOC-' || lpad(nextval('out_of_charge_no_seq')::text, 9, '0') AS ooc, "
    "p.port_code || '-GP-' || lpad(nextval('gatepass_no_seq')::text, 9, '0') AS gatepass "
    "FROM unnest(CAST(:port_codes AS text[])) WITH ORDINALITY AS p(port_code, n) ORDER BY p.n"
)
_FACT_NAMES = ("registered", "bis", "rms", "seal")


class SqlClearanceCases:
    """The `ClearanceCases` port on PostgreSQL; writes are deferred to one statement."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def for_update(self, identities: Sequence[Identity]) -> dict[Identity, ClearanceCase]:
        if not identities:
            return {}
        rows = await self.uow.session.execute(_FOR_UPDATE, identity_params(identities))
        found = {(row.port_code, row.be_no, row.be_date): _case_of(row) for row in rows}
        return {i: found.get(i) or ClearanceCase(i[0], i[1], i[2]) for i in identities}

    def save(self, case: ClearanceCase) -> None:
        self.uow.defer(
            _SAVE,
            {
                "port_code": case.port_code,
                "be_no": case.be_no,
                "be_date": case.be_date,
                "version": case.version,
                "state": case.state.value,
                "facts": orjson.dumps(_facts_data(case.facts)).decode(),
                "held_reasons": orjson.dumps(reasons_data(list(case.held_reasons))).decode(),
                "out_of_charge_no": case.out_of_charge_no,
                "gatepass_no": case.gatepass_no,
                "issued_version": case.issued_version,
            },
        )

    async def numbers(self, port_codes: Sequence[str]) -> list[tuple[str, str]]:
        if not port_codes:
            return []
        rows = await self.uow.session.execute(_NUMBERS, {"port_codes": list(port_codes)})
        return [(row.ooc, row.gatepass) for row in rows]


def _case_of(row: Any) -> ClearanceCase:
    ref = BillOfEntryRef(row.port_code, row.be_no, row.be_date, max(row.version, 1))
    facts_json = row.facts if isinstance(row.facts, dict) else orjson.loads(row.facts)
    facts = Facts()
    for name, data in facts_json.items():
        facts.add(fact_from_data(name, ref, data))
    held = (
        row.held_reasons if isinstance(row.held_reasons, list) else orjson.loads(row.held_reasons)
    )
    return ClearanceCase(
        port_code=row.port_code,
        be_no=row.be_no,
        be_date=row.be_date,
        version=row.version,
        state=CaseState(row.state),
        facts=facts,
        held_reasons=tuple(Reason.from_data(reason) for reason in held),
        out_of_charge_no=row.out_of_charge_no,
        gatepass_no=row.gatepass_no,
        issued_version=row.issued_version,
    )


def _facts_data(facts: Facts) -> dict[str, Any]:
    present = {name: getattr(facts, name) for name in _FACT_NAMES}
    return {name: fact_data(fact) for name, fact in present.items() if fact is not None}


def _reasons(data: Any) -> tuple[Reason, ...]:
    return tuple(Reason.from_data(reason) for reason in data)


def fact_data(fact: Fact) -> dict[str, Any]:
    """A fact as the JSON the case keeps of it (what `fact_from_data` reads back)."""
    if isinstance(fact, Registered):
        return {
            "be_type": fact.be_type.value,
            "iec": fact.iec,
            "importer_name": fact.importer_name,
            "aeo_tier": fact.aeo_tier.value if fact.aeo_tier else None,
            "warehouse_code": fact.warehouse_code,
            "containers": [[c.container_no, c.seal_no] for c in fact.containers],
            "duty_claimed_paid": fact.duty_claimed_paid,
            "duty_claimed_deferred_otp": fact.duty_claimed_deferred_otp,
        }
    if isinstance(fact, BisVerdict):
        return {"verdict": fact.verdict.value, "findings": reasons_data(list(fact.findings))}
    if isinstance(fact, RmsDecision):
        return {"outcome": fact.outcome, "reasons": reasons_data(list(fact.reasons))}
    return {"outcome": fact.outcome, "findings": reasons_data(list(fact.findings))}


def fact_from_data(name: str, ref: BillOfEntryRef, data: Mapping[str, Any]) -> Fact:
    """The inverse of `fact_data`, for the fact called `name` of the case."""
    if name == "registered":
        tier = data["aeo_tier"]
        return Registered(
            ref=ref,
            be_type=BeType(data["be_type"]),
            iec=data["iec"],
            importer_name=data["importer_name"],
            aeo_tier=AeoTier(tier) if tier else None,
            warehouse_code=data["warehouse_code"],
            containers=tuple(GatepassContainer(no, seal) for no, seal in data["containers"]),
            duty_claimed_paid=data["duty_claimed_paid"],
            duty_claimed_deferred_otp=data["duty_claimed_deferred_otp"],
        )
    if name == "bis":
        return BisVerdict(ref, BisOutcome(data["verdict"]), _reasons(data["findings"]))
    if name == "rms":
        return RmsDecision(ref, data["outcome"], _reasons(data["reasons"]))
    return SealReconciliation(ref, data["outcome"], _reasons(data["findings"]))
