"""Read models for the HTTP API: what bis-verifier holds about one BE."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_KEY = "port_code = :port_code AND be_no = :be_no AND be_date = :be_date"
_VERDICTS = text(
    "SELECT version, verdict, findings, items, catalogue_version, registry_snapshot_at, "
    f"verified_at FROM bis_verification WHERE {_KEY} ORDER BY version"
)
_PENDING = text(
    "SELECT version, state, attempts, next_attempt_at, last_error, pending_since, finished_at "
    f"FROM bis_pending WHERE {_KEY} ORDER BY version"
)
_SAMPLE = text(
    "SELECT version, drawn, results, laboratory, report_no, conforming, concluded_at "
    f"FROM bis_sample WHERE {_KEY}"
)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


async def verification_view(
    engine: AsyncEngine, port_code: str, be_no: str, be_date: date
) -> dict[str, Any] | None:
    """Each version's verdict or wait, and the BE's samples; None when it is unknown."""
    params = {"port_code": port_code, "be_no": be_no, "be_date": be_date}
    async with engine.connect() as conn:
        verdicts = (await conn.execute(_VERDICTS, params)).mappings().all()
        pending = (await conn.execute(_PENDING, params)).mappings().all()
        sample = (await conn.execute(_SAMPLE, params)).mappings().first()
    if not verdicts and not pending and sample is None:
        return None
    versions: dict[int, dict[str, Any]] = {}
    for row in pending:
        versions[row["version"]] = {
            "version": row["version"],
            "state": "verification_pending" if row["state"] == "pending" else row["state"],
            "waiting": {
                "attempts": row["attempts"],
                "pending_since": _iso(row["pending_since"]),
                "next_attempt_at": _iso(row["next_attempt_at"])
                if row["state"] == "pending"
                else None,
                "last_error": row["last_error"],
                "finished_at": _iso(row["finished_at"]),
            },
        }
    for row in verdicts:
        entry = versions.setdefault(row["version"], {"version": row["version"]})
        entry.update(
            state="verified",
            verdict=row["verdict"],
            findings=row["findings"],
            items=row["items"],
            catalogue_version=row["catalogue_version"],
            registry_snapshot_at=_iso(row["registry_snapshot_at"]),
            verified_at=_iso(row["verified_at"]),
        )
    return {
        "bill_of_entry": {"port_code": port_code, "be_no": be_no, "be_date": be_date.isoformat()},
        "versions": [versions[v] for v in sorted(versions)],
        "sample": None
        if sample is None
        else {key: _iso(value) for key, value in dict(sample).items()},
    }
