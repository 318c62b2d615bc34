"""Clearance cases (facts per BE and the decision).

Revision ID: 0001
"""

from alembic import op
from clearance_runtime.migrations import drop_runtime_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE clearance_case (
            port_code        text NOT NULL,
            be_no            text NOT NULL,
            be_date          date NOT NULL,
            facts            jsonb NOT NULL DEFAULT '{}',
            decision         text,
            reasons          jsonb,
            out_of_charge_no text UNIQUE,
            gatepass_no      text UNIQUE,
            decided_at       timestamptz,
            PRIMARY KEY (port_code, be_no, be_date)
        )
        """
    )
    op.execute("CREATE SEQUENCE out_of_charge_no_seq")
    op.execute("CREATE SEQUENCE gatepass_no_seq")


def downgrade() -> None:
    op.execute("DROP SEQUENCE gatepass_no_seq")
    op.execute("DROP SEQUENCE out_of_charge_no_seq")
    op.execute("DROP TABLE clearance_case")
    drop_runtime_tables()
