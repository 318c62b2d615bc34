"""Bills of Entry, their status view, and the runtime's outbox and inbox.

Revision ID: 0001
"""

from alembic import op
from clearance_runtime.migrations import drop_runtime_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE bill_of_entry (
            port_code      text NOT NULL,
            be_no          text NOT NULL,
            be_date        date NOT NULL,
            be_type        text NOT NULL,
            iec            text NOT NULL,
            filing         jsonb NOT NULL,
            filed_event_id text NOT NULL,
            registered_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (port_code, be_no, be_date)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE bill_of_entry_status (
            port_code        text NOT NULL,
            be_no            text NOT NULL,
            be_date          date NOT NULL,
            stage            text NOT NULL,
            reasons          jsonb NOT NULL DEFAULT '[]',
            out_of_charge_no text,
            gatepass_no      text,
            updated_at       timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (port_code, be_no, be_date)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE bill_of_entry_history (
            id         bigserial PRIMARY KEY,
            port_code  text NOT NULL,
            be_no      text NOT NULL,
            be_date    date NOT NULL,
            stage      text NOT NULL,
            event_type text NOT NULL,
            reasons    jsonb NOT NULL DEFAULT '[]',
            at         timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        "CREATE INDEX bill_of_entry_history_be ON bill_of_entry_history (port_code, be_no, be_date)"
    )


def downgrade() -> None:
    for table in (
        "bill_of_entry_history",
        "bill_of_entry_status",
        "bill_of_entry",
    ):
        op.execute(f"DROP TABLE {table}")
    drop_runtime_tables()
