"""One reconciliation per BE version.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE seal_reconciliation ADD COLUMN version integer NOT NULL DEFAULT 1")
    op.execute("ALTER TABLE seal_reconciliation DROP CONSTRAINT seal_reconciliation_pkey")
    op.execute(
        "ALTER TABLE seal_reconciliation ADD PRIMARY KEY (port_code, be_no, be_date, version)"
    )


def downgrade() -> None:
    op.execute("DELETE FROM seal_reconciliation WHERE version > 1")
    op.execute("ALTER TABLE seal_reconciliation DROP CONSTRAINT seal_reconciliation_pkey")
    op.execute("ALTER TABLE seal_reconciliation ADD PRIMARY KEY (port_code, be_no, be_date)")
    op.execute("ALTER TABLE seal_reconciliation DROP COLUMN version")
