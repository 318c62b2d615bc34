"""SQL shared by every service's repositories: BE identities in bulk, versions per BE.

Every service keys its state by the BE identity (port code, BE number, BE date)
and, per issue of decisions, by version; these read many BEs in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

Identity = tuple[str, str, date]

# A relation `k(port_code, be_no, be_date)` of the identities bound by `identity_params`.
IDENTITIES = (
    "unnest(CAST(:port_codes AS text[]), CAST(:be_nos AS text[]), CAST(:be_dates AS date[])) "
    "AS k(port_code, be_no, be_date)"
)


def identity_params(identities: Sequence[Identity]) -> dict[str, Any]:
    return {
        "port_codes": [identity[0] for identity in identities],
        "be_nos": [identity[1] for identity in identities],
        "be_dates": [identity[2] for identity in identities],
    }


async def latest_versions(
    session: AsyncSession, table: str, identities: Sequence[Identity]
) -> dict[Identity, int]:
    """The newest `version` in `table` (a trusted name) of each BE that has a row."""
    if not identities:
        return {}
    statement = text(
        f"SELECT t.port_code, t.be_no, t.be_date, max(t.version) AS version FROM {table} t "
        f"JOIN {IDENTITIES} USING (port_code, be_no, be_date) "
        "GROUP BY t.port_code, t.be_no, t.be_date"
    )
    rows = await session.execute(statement, identity_params(identities))
    return {(row.port_code, row.be_no, row.be_date): row.version for row in rows}
