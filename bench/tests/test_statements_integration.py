"""The benchmark reads PostgreSQL's own account of a run: pg_stat_statements, which the
local stack loads, split by statement and by the service role that ran it."""

import asyncpg
import pytest
from clearance_bench import statements

pytestmark = pytest.mark.integration


async def test_statements_since_the_reset_are_read_with_their_service(
    postgres_admin_dsn: str, service_dsns: dict[str, str]
) -> None:
    await statements.reset(postgres_admin_dsn)
    conn = await asyncpg.connect(service_dsns["ooc_issuer"])
    try:
        for _ in range(3):
            await conn.fetchval("SELECT 41 + 1 AS answer_of_the_statement_test")
    finally:
        await conn.close()

    taken = await statements.top(postgres_admin_dsn, limit=1000)

    ours = [s for s in taken["top"] if "answer_of_the_statement_test" in s["query"]]
    assert [(s["role"], s["calls"], s["rows"]) for s in ours] == [("ooc_issuer", 3, 3)]
    assert taken["calls"] >= 3
    assert "ms executing per BE" in statements.format_top(taken, count=3)
