"""One decision per BE version; the queue names the version queued.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE rms_decision ADD COLUMN version integer NOT NULL DEFAULT 1")
    op.execute("ALTER TABLE rms_decision DROP CONSTRAINT rms_decision_pkey")
    op.execute("ALTER TABLE rms_decision ADD PRIMARY KEY (port_code, be_no, be_date, version)")
    op.execute("ALTER TABLE examination_queue ADD COLUMN version integer NOT NULL DEFAULT 1")


def downgrade() -> None:
    op.execute("ALTER TABLE examination_queue DROP COLUMN version")
    op.execute("DELETE FROM rms_decision WHERE version > 1")
    op.execute("ALTER TABLE rms_decision DROP CONSTRAINT rms_decision_pkey")
    op.execute("ALTER TABLE rms_decision ADD PRIMARY KEY (port_code, be_no, be_date)")
    op.execute("ALTER TABLE rms_decision DROP COLUMN version")
