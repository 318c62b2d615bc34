"""SQL of warehouse-seal."""

from __future__ import annotations

from datetime import date

import orjson
from clearance_runtime.unit_of_work import UnitOfWork
from sqlalchemy import text

from warehouse_seal.domain.seals import Reconciliation

_INSERT = text(
    "INSERT INTO seal_reconciliation "
    "(port_code, be_no, be_date, outcome, warehouse_code, seal_numbers, findings) "
    "VALUES (:port_code, :be_no, :be_date, :outcome, :warehouse_code, "
    "CAST(:seal_numbers AS jsonb), CAST(:findings AS jsonb)) "
    "ON CONFLICT DO NOTHING"
)


def add_reconciliation(
    uow: UnitOfWork, ref: dict[str, str], reconciliation: Reconciliation
) -> None:
    """Record the reconciliation (at commit, batched); a BE reconciled before keeps its first."""
    uow.defer(
        _INSERT,
        {
            **ref,
            "be_date": date.fromisoformat(ref["be_date"]),
            "outcome": reconciliation.outcome,
            "warehouse_code": reconciliation.warehouse_code,
            "seal_numbers": orjson.dumps(reconciliation.seal_numbers).decode(),
            "findings": orjson.dumps(reconciliation.findings).decode(),
        },
    )
