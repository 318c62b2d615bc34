"""Read-only views of warehouse-seal's state for its HTTP API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from warehouse_seal.domain.reconciliation import Bill
from warehouse_seal.domain.trips import Trip

_SALE = text("SELECT data FROM seal_sale WHERE seal_no = :seal_no")
_TRIP = text("SELECT data FROM seal_trip WHERE seal_no = :seal_no")
_REFUSALS = text(
    "SELECT what, reasons, refused_at FROM seal_refusal WHERE seal_no = :seal_no ORDER BY id"
)
_BILL = text("SELECT data FROM warehousing_be WHERE be_key = :key")
_EXEMPTION = text("SELECT data FROM seal_exemption WHERE be_key = :key")


async def trip_of(session: AsyncSession, seal_no: str) -> Trip | None:
    row = (await session.execute(_TRIP, {"seal_no": seal_no})).first()
    return None if row is None else Trip.from_data(row.data)


async def seal_view(session: AsyncSession, seal_no: str) -> dict[str, Any] | None:
    """`seal-trip.v1`: the sale, the trip and the refusals of one seal number, or None."""
    sale = (await session.execute(_SALE, {"seal_no": seal_no})).first()
    trip = await trip_of(session, seal_no)
    refusals = [
        {"what": r.what, "reasons": r.reasons, "at": r.refused_at.isoformat()}
        for r in await session.execute(_REFUSALS, {"seal_no": seal_no})
    ]
    if sale is None and trip is None and not refusals:
        return None
    return {
        "seal_no": seal_no,
        "sale": None if sale is None else sale.data,
        "trip": None if trip is None else trip.view(),
        "refusals": refusals,
    }


async def verdict_view(session: AsyncSession, key: str) -> dict[str, Any] | None:
    """`seal-verdict.v1`: where a warehousing BE's seal reconciliation stands."""
    row = (await session.execute(_BILL, {"key": key})).first()
    exemption = (await session.execute(_EXEMPTION, {"key": key})).first()
    if row is None:
        return None
    bill = Bill.from_data(row.data)
    verdict = bill.published.get(bill.ref.version)
    return {
        "bill_of_entry_ref": bill.ref.to_data(),
        "warehouse_code": bill.warehouse_code or None,
        "seal_numbers": [s.written for s in bill.seals],
        "state": "reconciled" if verdict is not None else "awaiting",
        "awaiting_since": None if bill.awaiting_since is None else bill.awaiting_since.isoformat(),
        "verdict": verdict,
        "exemption": None if exemption is None else exemption.data,
    }
