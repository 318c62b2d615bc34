"""Seal reconciliations, and the runtime's outbox and inbox.

Revision ID: 0001
"""

from alembic import op
from clearance_runtime.migrations import drop_runtime_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE seal_reconciliation (
            port_code      text NOT NULL,
            be_no          text NOT NULL,
            be_date        date NOT NULL,
            outcome        text NOT NULL,
            warehouse_code text NOT NULL,
            seal_numbers   jsonb NOT NULL,
            findings       jsonb NOT NULL,
            reconciled_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (port_code, be_no, be_date)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE seal_reconciliation")
    drop_runtime_tables()
