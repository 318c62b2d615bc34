"""One verdict per BE version.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE bis_verification ADD COLUMN version integer NOT NULL DEFAULT 1")
    op.execute("ALTER TABLE bis_verification DROP CONSTRAINT bis_verification_pkey")
    op.execute("ALTER TABLE bis_verification ADD PRIMARY KEY (port_code, be_no, be_date, version)")


def downgrade() -> None:
    op.execute("DELETE FROM bis_verification WHERE version > 1")
    op.execute("ALTER TABLE bis_verification DROP CONSTRAINT bis_verification_pkey")
    op.execute("ALTER TABLE bis_verification ADD PRIMARY KEY (port_code, be_no, be_date)")
    op.execute("ALTER TABLE bis_verification DROP COLUMN version")
