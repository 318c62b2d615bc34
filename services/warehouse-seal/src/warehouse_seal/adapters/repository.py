"""SQL of warehouse-seal: the seal registry, trips, warehousing BEs, claims, exemptions,
refusals. Aggregates are kept whole as JSON (`data`), with the columns they are
looked up by; writes are deferred to the commit and batched."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from clearance_domain import Reason
from clearance_domain.reasons import reasons_data
from clearance_runtime.unit_of_work import SqlUnitOfWork
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from warehouse_seal.domain.movements import Exemption
from warehouse_seal.domain.reconciliation import Bill
from warehouse_seal.domain.seals import Sale
from warehouse_seal.domain.trips import Trip

_LOCK = text(
    "SELECT count(pg_advisory_xact_lock(k)) FROM "
    "(SELECT hashtextextended(s, 12) AS k FROM unnest(CAST(:subjects AS text[])) AS s "
    "ORDER BY 1) AS ordered"
)
_SALES = text("SELECT data FROM seal_sale WHERE seal_no = ANY(:seals)")
_TRIPS = text("SELECT data FROM seal_trip WHERE seal_no = ANY(:seals)")
_CLAIMS = text("SELECT seal_no, be_key FROM seal_claim WHERE seal_no = ANY(:seals)")
_BILLS = text("SELECT data FROM warehousing_be WHERE be_key = ANY(:keys)")
_EXEMPTIONS = text("SELECT be_key, data FROM seal_exemption WHERE be_key = ANY(:keys)")
_ADD_SALE = text(
    "INSERT INTO seal_sale (seal_no, tid, vendor_brand, warehouse_code, sold_at, data) "
    "VALUES (:seal_no, :tid, :vendor_brand, :warehouse_code, :sold_at, CAST(:data AS jsonb)) "
    "ON CONFLICT DO NOTHING"
)
_SAVE_TRIP = text(
    "INSERT INTO seal_trip (seal_no, movement, document_key, state, data, updated_at) "
    "VALUES (:seal_no, :movement, :document_key, :state, CAST(:data AS jsonb), :at) "
    "ON CONFLICT (seal_no) DO UPDATE SET state = EXCLUDED.state, data = EXCLUDED.data, "
    "updated_at = EXCLUDED.updated_at"
)
_ADD_CLAIM = text(
    "INSERT INTO seal_claim (seal_no, be_key) VALUES (:seal_no, :be_key) ON CONFLICT DO NOTHING"
)
_SAVE_BILL = text(
    "INSERT INTO warehousing_be (be_key, version, data) VALUES (:be_key, :version, "
    "CAST(:data AS jsonb)) ON CONFLICT (be_key) DO UPDATE SET version = EXCLUDED.version, "
    "data = EXCLUDED.data"
)
_SAVE_RECONCILIATION = text(
    "INSERT INTO seal_reconciliation (port_code, be_no, be_date, version, outcome, "
    "warehouse_code, seal_numbers, findings) VALUES (:port_code, :be_no, :be_date, :version, "
    ":outcome, :warehouse_code, CAST(:seal_numbers AS jsonb), CAST(:findings AS jsonb)) "
    "ON CONFLICT (port_code, be_no, be_date, version) DO UPDATE SET outcome = EXCLUDED.outcome, "
    "findings = EXCLUDED.findings, reconciled_at = now()"
)
_SAVE_EXEMPTION = text(
    "INSERT INTO seal_exemption (be_key, data) VALUES (:be_key, CAST(:data AS jsonb)) "
    "ON CONFLICT (be_key) DO UPDATE SET data = EXCLUDED.data"
)
_ADD_REFUSAL = text(
    "INSERT INTO seal_refusal (seal_no, what, reasons, payload, refused_at) VALUES "
    "(:seal_no, :what, CAST(:reasons AS jsonb), CAST(:payload AS jsonb), :at)"
)


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


class SqlSealRecords:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    @property
    def session(self) -> AsyncSession:
        return self.uow.session

    async def lock(self, subjects: Sequence[str]) -> None:
        if subjects:
            await self.session.execute(_LOCK, {"subjects": list(subjects)})

    async def sales(self, seal_nos: Sequence[str]) -> dict[str, Sale]:
        rows = await self.session.execute(_SALES, {"seals": list(seal_nos)})
        return {sale.seal_no: sale for sale in (Sale.from_data(r.data) for r in rows)}

    async def trips(self, seal_nos: Sequence[str]) -> dict[str, Trip]:
        rows = await self.session.execute(_TRIPS, {"seals": list(seal_nos)})
        return {trip.seal_no: trip for trip in (Trip.from_data(r.data) for r in rows)}

    async def claims(self, seal_nos: Sequence[str]) -> dict[str, str]:
        rows = await self.session.execute(_CLAIMS, {"seals": list(seal_nos)})
        return {r.seal_no: r.be_key for r in rows}

    async def bills(self, keys: Sequence[str]) -> dict[str, Bill]:
        rows = await self.session.execute(_BILLS, {"keys": list(keys)})
        return {bill.key: bill for bill in (Bill.from_data(r.data) for r in rows)}

    async def exemptions(self, keys: Sequence[str]) -> dict[str, Exemption]:
        rows = await self.session.execute(_EXEMPTIONS, {"keys": list(keys)})
        return {r.be_key: Exemption.from_data(r.data) for r in rows}

    def add_sale(self, sale: Sale) -> None:
        self.uow.defer(
            _ADD_SALE,
            {
                "seal_no": sale.seal_no,
                "tid": sale.tid,
                "vendor_brand": sale.vendor_brand,
                "warehouse_code": sale.warehouse_code,
                "sold_at": sale.sold_at,
                "data": _json(sale.to_data()),
            },
        )

    def save_trip(self, trip: Trip) -> None:
        self.uow.defer(
            _SAVE_TRIP,
            {
                "seal_no": trip.seal_no,
                "movement": trip.sealing.movement.value,
                "document_key": trip.sealing.document.key,
                "state": trip.state.value,
                "data": _json(trip.to_data()),
                "at": self.uow.clock.now(),
            },
        )

    def add_claim(self, seal_no: str, key: str) -> None:
        self.uow.defer(_ADD_CLAIM, {"seal_no": seal_no, "be_key": key})

    def save_bill(self, bill: Bill) -> None:
        self.uow.defer(
            _SAVE_BILL,
            {"be_key": bill.key, "version": bill.ref.version, "data": _json(bill.to_data())},
        )
        verdict = bill.published.get(bill.ref.version)
        if verdict is not None:
            self.uow.defer(
                _SAVE_RECONCILIATION,
                {
                    "port_code": bill.ref.port_code,
                    "be_no": bill.ref.be_no,
                    "be_date": bill.ref.be_date,
                    "version": bill.ref.version,
                    "outcome": verdict["outcome"],
                    "warehouse_code": bill.warehouse_code,
                    "seal_numbers": _json([s.written for s in bill.seals]),
                    "findings": _json(verdict["findings"]),
                },
            )

    def save_exemption(self, key: str, exemption: Exemption) -> None:
        self.uow.defer(_SAVE_EXEMPTION, {"be_key": key, "data": _json(exemption.to_data())})

    def add_refusal(
        self, seal_no: str, what: str, reasons: list[Reason], payload: Any, at: datetime
    ) -> None:
        self.uow.defer(
            _ADD_REFUSAL,
            {
                "seal_no": seal_no,
                "what": what,
                "reasons": _json(reasons_data(reasons)),
                "payload": _json(payload),
                "at": at,
            },
        )
