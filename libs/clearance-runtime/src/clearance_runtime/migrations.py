"""Alembic per service, plus the DDL of the runtime's own tables.

Each service keeps an Alembic script folder whose `env.py` is two lines
calling `run_env()`. `upgrade()` runs it on an existing async connection,
under an advisory lock so replicas starting together migrate once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

# Tables every service has: the outbox (events waiting for Kafka) and the
# inbox (events already handled, keyed by consumer and event id).
RUNTIME_DDL = (
    """
    CREATE TABLE outbox (
        id           bigserial PRIMARY KEY,
        event_id     text NOT NULL UNIQUE,
        topic        text NOT NULL,
        key          text NOT NULL,
        value        bytea NOT NULL,
        headers      jsonb NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
    )
    """,
    "CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL",
    "CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL",
    """
    CREATE TABLE inbox (
        consumer   text NOT NULL,
        event_id   text NOT NULL,
        event_type text NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
    )
    """,
)


def create_runtime_tables() -> None:
    """Create outbox and inbox; call from a service's first Alembic revision."""
    from alembic import op

    for statement in RUNTIME_DDL:
        op.execute(statement)


def drop_runtime_tables() -> None:
    """Drop outbox and inbox; call from a service's first revision's downgrade."""
    from alembic import op

    for table in ("inbox", "outbox"):
        op.execute(f"DROP TABLE {table}")


def run_env() -> None:
    """The body of every service's `env.py`: migrate on the given connection."""
    connection: Connection = context.config.attributes["connection"]
    schema: str = context.config.attributes["schema"]
    context.configure(connection=connection, version_table_schema=schema)
    with context.begin_transaction():
        context.run_migrations()


async def upgrade(engine: AsyncEngine, script_location: Path, schema: str) -> None:
    """Bring the service's schema to the newest revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["schema"] = schema

    def _run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"{schema}.migrate"}
        )
        await conn.run_sync(_run)
