"""Per-item results with catalogue and registry snapshot; versions waiting for the
registry; sample cases awaiting the laboratory.

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("ALTER TABLE bis_verification ADD COLUMN items jsonb NOT NULL DEFAULT '[]'")
    op.execute("ALTER TABLE bis_verification ADD COLUMN catalogue_version integer")
    op.execute("ALTER TABLE bis_verification ADD COLUMN registry_snapshot_at timestamptz")
    op.execute(
        """
        CREATE TABLE bis_pending (
            id              bigserial PRIMARY KEY,
            port_code       text NOT NULL,
            be_no           text NOT NULL,
            be_date         date NOT NULL,
            version         integer NOT NULL,
            bill_of_entry   jsonb NOT NULL,
            lookups         jsonb NOT NULL,
            state           text NOT NULL DEFAULT 'pending',
            attempts        integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL,
            lease_until     timestamptz,
            last_error      text,
            announced       boolean NOT NULL DEFAULT false,
            pending_since   timestamptz NOT NULL,
            finished_at     timestamptz,
            traceparent     text,
            tracestate      text,
            UNIQUE (port_code, be_no, be_date, version),
            CHECK (state IN ('pending', 'verified', 'superseded'))
        )
        """
    )
    op.execute(
        "CREATE INDEX bis_pending_due ON bis_pending (next_attempt_at, id) WHERE state = 'pending'"
    )
    op.execute(
        """
        CREATE TABLE bis_sample (
            port_code    text NOT NULL,
            be_no        text NOT NULL,
            be_date      date NOT NULL,
            version      integer NOT NULL,
            drawn        jsonb NOT NULL,
            results      jsonb NOT NULL,
            laboratory   text,
            report_no    text,
            conforming   boolean,
            concluded_at timestamptz,
            updated_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (port_code, be_no, be_date)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE bis_sample")
    op.execute("DROP TABLE bis_pending")
    op.execute("ALTER TABLE bis_verification DROP COLUMN registry_snapshot_at")
    op.execute("ALTER TABLE bis_verification DROP COLUMN catalogue_version")
    op.execute("ALTER TABLE bis_verification DROP COLUMN items")
