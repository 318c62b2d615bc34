"""HTTP API of be-intake for officers and operations staff: find BEs in the status view.

The operations console's BE tracker, stuck list and day figures read this; it is
the only read of be-intake's view across many BEs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from clearance_contracts import BILL_OF_ENTRY_SEARCH, dereferenced_schema, validate_http
from clearance_runtime.access import Principal, requires
from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from be_intake.adapters import operations

#: Officers and operations staff (administrators) may search across BEs; an officer only
#: within the customs locations of its token (another location's port_code is a 403).
_STAFF = Depends(requires("officer", "administrator", location="port_code"))
_SCHEMA = {"content": {"application/json": {"schema": dereferenced_schema(BILL_OF_ENTRY_SEARCH)}}}
_REF = ("port_code", "be_no", "be_date", "version")
_TIMES = (
    "updated_at",
    "first_seen_at",
    "registered_at",
    "rms_decided_at",
    "released_at",
    "held_at",
    "rejected_at",
)


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    ref = {name: row[name] for name in _REF}
    ref["be_date"] = ref["be_date"].isoformat()
    key = f"{row['port_code']}/{row['be_no']}/{ref['be_date']}"
    times = {name: row[name].isoformat() if row[name] else None for name in _TIMES}
    return {
        "bill_of_entry_ref": ref,
        "iec": row["iec"],
        "be_type": row["be_type"],
        "status": row["status"],
        "stuck": bool(row["stuck"]),
        "out_of_charge_no": row["out_of_charge_no"],
        "gatepass_no": row["gatepass_no"],
        **times,
        "status_url": f"/bills-of-entry/{key}",
    }


def _locations_of(caller: Principal) -> list[str] | None:
    """The ports an officer's search is confined to; None for an administrator (all)."""
    if caller.has("administrator"):
        return None
    return sorted(caller.values("location"))


def router(sessions: async_sessionmaker[AsyncSession]) -> APIRouter:
    api = APIRouter(prefix="/bills-of-entry", tags=["operations"])

    @api.get(
        "",
        summary="Find Bills of Entry by BE number, IEC, port, date, status, first-seen time, stuck",
        responses={200: _SCHEMA},
    )
    async def search(
        caller: Annotated[Principal, _STAFF],
        be_no: str | None = None,
        iec: str | None = None,
        port_code: str | None = None,
        be_date: date | None = None,
        seen_from: Annotated[datetime | None, Query(description="first seen at or after")] = None,
        seen_until: Annotated[datetime | None, Query(description="first seen before")] = None,
        status: Annotated[
            str | None, Query(pattern=r"^[a-z_]{3,30}$", description="a status, e.g. duty_due")
        ] = None,
        stuck: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=20000)] = 100,
    ) -> dict[str, Any]:
        async with sessions() as session:
            rows = await operations.search(
                session,
                be_no=be_no,
                iec=iec,
                port_code=port_code,
                port_codes=_locations_of(caller),
                be_date=be_date,
                seen_from=seen_from,
                seen_until=seen_until,
                status=status,
                stuck=stuck,
                limit=limit,
            )
        body = {"bills_of_entry": [_summary(row) for row in rows], "limit": limit}
        validate_http(BILL_OF_ENTRY_SEARCH, body)
        return body

    return api
