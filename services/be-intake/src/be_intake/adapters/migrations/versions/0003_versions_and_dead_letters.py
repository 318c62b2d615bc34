"""The status view per BE version, and the dead letters that leave a BE stuck.

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("ALTER TABLE bill_of_entry ADD COLUMN version integer NOT NULL DEFAULT 1")
    op.execute("ALTER TABLE bill_of_entry_status ADD COLUMN version integer NOT NULL DEFAULT 1")
    op.execute("ALTER TABLE bill_of_entry_history ADD COLUMN version integer NOT NULL DEFAULT 1")
    op.execute(
        """
        CREATE TABLE dead_letter (
            port_code        text NOT NULL,
            be_no            text NOT NULL,
            be_date          date NOT NULL,
            consumer         text NOT NULL,
            event_type       text NOT NULL,
            reason           text NOT NULL,
            dlq_topic        text NOT NULL,
            dlq_partition    integer NOT NULL,
            dlq_offset       bigint NOT NULL,
            dead_lettered_at timestamptz NOT NULL,
            resolved_at      timestamptz,
            PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
        )
        """
    )
    op.execute(
        "CREATE INDEX dead_letter_unresolved ON dead_letter (port_code, be_no, be_date) "
        "WHERE resolved_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP TABLE dead_letter")
    for table in ("bill_of_entry_history", "bill_of_entry_status", "bill_of_entry"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN version")
