"""PostgreSQL's own account of a run: time per statement (pg_stat_statements).

The local stack loads pg_stat_statements (clearance_local.postgres). The benchmark resets
its counters before the pipeline run and reads the statements that took the most time
after it, so the database's share of the CPU per BE is split by statement and service.
"""

from __future__ import annotations

from typing import Any

import asyncpg

_TOP = """
SELECT r.rolname AS role, s.query, s.calls, s.rows,
       s.total_exec_time AS total_ms, s.mean_exec_time AS mean_ms
FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
ORDER BY s.total_exec_time DESC LIMIT $1
"""
_TOTAL = "SELECT coalesce(sum(total_exec_time), 0), coalesce(sum(calls), 0) FROM pg_stat_statements"


async def reset(admin_dsn: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def top(admin_dsn: str, limit: int = 15, query_chars: int = 160) -> dict[str, Any]:
    """The total execution time and calls since the reset, and the `limit` statements
    that took the most, each with its role (= the service), calls, rows and share."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        total_ms, calls = await conn.fetchrow(_TOTAL)
        rows = await conn.fetch(_TOP, limit)
    finally:
        await conn.close()
    total_ms = float(total_ms)
    return {
        "total_exec_ms": round(total_ms, 1),
        "calls": int(calls),
        "top": [
            {
                "role": row["role"],
                "query": " ".join(row["query"].split())[:query_chars],
                "calls": row["calls"],
                "rows": row["rows"],
                "total_ms": round(row["total_ms"], 1),
                "mean_ms": round(row["mean_ms"], 3),
                "share": round(row["total_ms"] / total_ms, 4) if total_ms else 0.0,
            }
            for row in rows
        ],
    }


def format_top(statements: dict[str, Any], count: int, limit: int = 10) -> str:
    """The heaviest statements, one line each, with calls and time per BE."""
    lines = [
        f"PostgreSQL: {statements['calls']:,} statements, "
        f"{statements['total_exec_ms'] / max(count, 1):.2f} ms executing per BE; heaviest:"
    ]
    for s in statements["top"][:limit]:
        lines.append(
            f"  {s['share']:6.1%} {s['calls'] / max(count, 1):6.2f}/BE {s['mean_ms']:7.3f} ms "
            f"{s['role']:15} {s['query'][:90]}"
        )
    return "\n".join(lines)
