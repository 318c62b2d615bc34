"""Alembic per service, and the runtime's own tables, versioned by the runtime.

The runtime's tables (outbox, inbox, policies, due work, deliveries) are the
same in every schema, so the runtime migrates them itself, before the
service's Alembic revisions, and records how far in `runtime_schema_version`.
Each service keeps an Alembic script folder whose `env.py` calls `run_env()`.
`upgrade()` runs both on one connection, under an advisory lock, so replicas
starting together migrate once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# (version, statements). Append only: a released step is never edited.
RUNTIME_MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """
            CREATE TABLE IF NOT EXISTS outbox (
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
            "CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) "
            "WHERE published_at IS NULL",
            "CREATE INDEX IF NOT EXISTS outbox_published_at ON outbox (published_at) "
            "WHERE published_at IS NOT NULL",
            """
            CREATE TABLE IF NOT EXISTS inbox (
                consumer   text NOT NULL,
                event_id   text NOT NULL,
                event_type text NOT NULL,
                handled_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (consumer, event_id)
            )
            """,
        ),
    ),
    (
        2,
        (
            # Dead letters travel through the outbox: a record may have no key or value.
            "ALTER TABLE outbox ALTER COLUMN key DROP NOT NULL",
            "ALTER TABLE outbox ALTER COLUMN value DROP NOT NULL",
            # What the event said, so an id reused for other content is told apart.
            "ALTER TABLE inbox ADD COLUMN IF NOT EXISTS digest bytea",
            """
            CREATE TABLE policy (
                policy_id       text NOT NULL,
                version         integer NOT NULL,
                effective_from  timestamptz NOT NULL,
                effective_until timestamptz,
                source_document text NOT NULL,
                description     text NOT NULL DEFAULT '',
                body            jsonb NOT NULL,
                origin          text NOT NULL,
                loaded_at       timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (policy_id, version),
                CHECK (effective_until IS NULL OR effective_until > effective_from)
            )
            """,
            """
            CREATE TABLE due_work (
                id           bigserial PRIMARY KEY,
                kind         text NOT NULL,
                key          text NOT NULL,
                due_at       timestamptz NOT NULL,
                payload      jsonb NOT NULL DEFAULT '{}',
                traceparent  text,
                tracestate   text,
                created_at   timestamptz NOT NULL DEFAULT now(),
                fired_at     timestamptz,
                cancelled_at timestamptz,
                failed_at    timestamptz,
                last_error   text,
                UNIQUE (kind, key)
            )
            """,
            "CREATE INDEX due_work_pending ON due_work (due_at) "
            "WHERE fired_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL",
            """
            CREATE TABLE delivery (
                id              bigserial PRIMARY KEY,
                delivery_id     text NOT NULL UNIQUE,
                destination     text NOT NULL,
                kind            text NOT NULL,
                payload         jsonb NOT NULL,
                state           text NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'delivered', 'failed')),
                attempts        integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL,
                lease_until     timestamptz,
                last_error      text,
                traceparent     text,
                tracestate      text,
                created_at      timestamptz NOT NULL DEFAULT now(),
                delivered_at    timestamptz
            )
            """,
            "CREATE INDEX delivery_pending ON delivery (destination, id) WHERE state = 'pending'",
            """
            CREATE TABLE delivery_attempt (
                id          bigserial PRIMARY KEY,
                delivery_id text NOT NULL,
                attempt     integer NOT NULL,
                at          timestamptz NOT NULL,
                outcome     text NOT NULL,
                status_code integer,
                error       text,
                duration_ms integer,
                UNIQUE (delivery_id, attempt)
            )
            """,
        ),
    ),
    (
        3,
        (
            # A clock moved by an administrator (tests, replays) stays moved across restarts.
            """
            CREATE TABLE runtime_clock (
                singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                offset_seconds double precision NOT NULL
            )
            """,
        ),
    ),
)
RUNTIME_TABLES = (
    "runtime_clock",
    "delivery_attempt",
    "delivery",
    "due_work",
    "policy",
    "inbox",
    "outbox",
)


def runtime_ddl() -> list[str]:
    """Every runtime statement in order: for harnesses that build a schema by hand."""
    return [statement for _, statements in RUNTIME_MIGRATIONS for statement in statements]


async def upgrade_runtime_tables(conn: AsyncConnection) -> None:
    """Apply the runtime steps the schema has not had yet (in the caller's transaction)."""
    await conn.execute(
        text("CREATE TABLE IF NOT EXISTS runtime_schema_version (version integer NOT NULL)")
    )
    current = (
        await conn.execute(text("SELECT coalesce(max(version), 0) FROM runtime_schema_version"))
    ).scalar_one()
    for version, statements in RUNTIME_MIGRATIONS:
        if version <= current:
            continue
        for statement in statements:
            await conn.execute(text(statement))
        await conn.execute(
            text("INSERT INTO runtime_schema_version (version) VALUES (:v)"), {"v": version}
        )


def drop_runtime_tables() -> None:
    """Drop the runtime's tables; for a service's first revision's downgrade."""
    from alembic import op

    for table in (*RUNTIME_TABLES, "runtime_schema_version"):
        op.execute(f"DROP TABLE IF EXISTS {table}")


def run_env() -> None:
    """The body of every service's `env.py`: migrate on the given connection."""
    connection: Connection = context.config.attributes["connection"]
    schema: str = context.config.attributes["schema"]
    context.configure(connection=connection, version_table_schema=schema)
    with context.begin_transaction():
        context.run_migrations()


async def upgrade(engine: AsyncEngine, script_location: Path, schema: str) -> None:
    """Bring the schema to the newest runtime step and service revision (idempotent)."""
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
        await upgrade_runtime_tables(conn)
        await conn.run_sync(_run)
