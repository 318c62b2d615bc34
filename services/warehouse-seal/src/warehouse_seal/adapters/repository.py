"""SQL of warehouse-seal: one reconciliation per BE version."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from clearance_domain import BillOfEntryRef, Identity
from clearance_domain.reasons import reasons_data
from clearance_runtime.sql import latest_versions
from clearance_runtime.unit_of_work import SqlUnitOfWork
from sqlalchemy import text

from warehouse_seal.domain.seals import Reconciliation

_INSERT = text(
    "INSERT INTO seal_reconciliation "
    "(port_code, be_no, be_date, version, outcome, warehouse_code, seal_numbers, findings) "
    "VALUES (:port_code, :be_no, :be_date, :version, :outcome, :warehouse_code, "
    "CAST(:seal_numbers AS jsonb), CAST(:findings AS jsonb)) "
    "ON CONFLICT DO NOTHING"
)


class SqlReconciliations:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        return await latest_versions(self.uow.session, "seal_reconciliation", identities)

    def add(self, ref: BillOfEntryRef, reconciliation: Reconciliation) -> None:
        self.uow.defer(
            _INSERT,
            {
                "port_code": ref.port_code,
                "be_no": ref.be_no,
                "be_date": ref.be_date,
                "version": ref.version,
                "outcome": reconciliation.outcome,
                "warehouse_code": reconciliation.warehouse_code,
                "seal_numbers": orjson.dumps(list(reconciliation.seal_numbers)).decode(),
                "findings": orjson.dumps(reasons_data(list(reconciliation.findings))).decode(),
            },
        )
