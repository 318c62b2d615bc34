"""RMS decisions, the officers' FIFO examination queue.

Revision ID: 0001
"""

from alembic import op
from clearance_runtime.migrations import drop_runtime_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rms_decision (
            port_code        text NOT NULL,
            be_no            text NOT NULL,
            be_date          date NOT NULL,
            outcome          text NOT NULL,
            assessment_group text,
            reasons          jsonb NOT NULL,
            decided_at       timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (port_code, be_no, be_date)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE examination_queue (
            position         bigserial PRIMARY KEY,
            port_code        text NOT NULL,
            be_no            text NOT NULL,
            be_date          date NOT NULL,
            assessment_group text,
            queued_at        timestamptz NOT NULL DEFAULT now(),
            UNIQUE (port_code, be_no, be_date)
        )
        """
    )


def downgrade() -> None:
    for table in ("examination_queue", "rms_decision"):
        op.execute(f"DROP TABLE {table}")
    drop_runtime_tables()
