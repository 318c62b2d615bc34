"""Reads of be-intake for the HTTP API (no unit of work: read only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from clearance_domain import Identity
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from be_intake.domain.case import IntakeCase

_KEY = "port_code = :port_code AND be_no = :be_no AND be_date = :be_date"
_CASE = text(f"SELECT state, updated_at FROM intake_case WHERE {_KEY}")
_TIMELINE = text(
    "SELECT version, event_type, producer, summary, status, notice_code, reasons, at "
    f"FROM timeline WHERE {_KEY} ORDER BY id"
)
_VERSIONS = text(
    "SELECT version, amendment, registered_at FROM bill_of_entry_version "
    f"WHERE {_KEY} ORDER BY version"
)
_DEAD_LETTERS = text(
    "SELECT consumer, event_type, reason, dead_lettered_at, resolved_at IS NOT NULL AS resolved "
    f"FROM dead_letter WHERE {_KEY} ORDER BY dead_lettered_at"
)
_FILER = text(
    "SELECT filing->>'customs_broker_code' AS cb_code, iec FROM bill_of_entry "
    f"WHERE {_KEY} ORDER BY version DESC LIMIT 1"
)
_STUCK = text(
    "SELECT count(*) FROM (SELECT DISTINCT port_code, be_no, be_date FROM dead_letter "
    "WHERE resolved_at IS NULL) AS stuck"
)
_ROUTING = text(
    "SELECT policy_id, version, effective_from, effective_until, source_document, groups "
    "FROM assessment_routing ORDER BY policy_id, version"
)
_CERTIFICATES = text(
    "SELECT certificate_no, iec, tier, entity_name, valid_from, valid_to, suspended_from, "
    "revoked_from, recorded_at FROM aeo_certificate WHERE iec = :iec ORDER BY valid_from"
)
_ARRIVAL = text(
    "SELECT port_code, igm_no, igm_date, inward_date, mode, master_bills, recorded_at "
    "FROM carrier_arrival WHERE port_code = :port_code AND igm_no = :igm_no "
    "AND igm_date = :igm_date"
)


def iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [iso(v) for v in value]
    if isinstance(value, dict):
        return {k: iso(v) for k, v in value.items()}
    return value


def _key(identity: Identity) -> dict[str, Any]:
    port_code, be_no, be_date = identity
    return {"port_code": port_code, "be_no": be_no, "be_date": be_date}


async def case_of(session: AsyncSession, identity: Identity) -> tuple[IntakeCase, datetime] | None:
    row = (await session.execute(_CASE, _key(identity))).first()
    if row is None:
        return None
    return IntakeCase.from_data(identity, row.state), row.updated_at


async def details(session: AsyncSession, identity: Identity) -> dict[str, Any]:
    key = _key(identity)
    return {
        "timeline": [iso(dict(r._mapping)) for r in await session.execute(_TIMELINE, key)],
        "versions": [iso(dict(r._mapping)) for r in await session.execute(_VERSIONS, key)],
        "dead_letters": [iso(dict(r._mapping)) for r in await session.execute(_DEAD_LETTERS, key)],
    }


async def filer_of(session: AsyncSession, identity: Identity) -> tuple[str | None, str | None]:
    """(filer: its CB code, or the IEC of an importer filing itself; IEC) of a BE, to check
    a filer's scope: from its case (registered or rejected), else from its last filing;
    (None, None) when be-intake knows no filing of this identity."""
    found = await case_of(session, identity)
    if found is not None and (found[0].filer or found[0].iec):
        return found[0].filer, found[0].iec
    row = (await session.execute(_FILER, _key(identity))).first()
    return (row.cb_code, row.iec) if row is not None else (None, None)


async def certificates(session: AsyncSession, iec: str) -> list[dict[str, Any]]:
    return [iso(dict(r._mapping)) for r in await session.execute(_CERTIFICATES, {"iec": iec})]


async def assessment_routing(session: AsyncSession) -> list[dict[str, Any]]:
    """rms-router's routing of each rule-set version, as be-intake holds it (RMS-FAG-1)."""
    return [
        {
            "rule_set": {"policy_id": r.policy_id, "version": r.version},
            "effective_from": r.effective_from.isoformat(),
            "effective_until": iso(r.effective_until),
            "source_document": r.source_document,
            "groups": r.groups,
        }
        for r in await session.execute(_ROUTING)
    ]


async def arrival(
    session: AsyncSession, port_code: str, igm_no: str, igm_date: date
) -> dict[str, Any] | None:
    params = {"port_code": port_code, "igm_no": igm_no, "igm_date": igm_date}
    row = (await session.execute(_ARRIVAL, params)).first()
    return None if row is None else iso(dict(row._mapping))


async def stuck_count(session: AsyncSession) -> int:
    """How many BEs have a dead letter not yet resolved."""
    return int((await session.execute(_STUCK)).scalar_one())
