"""Issue 9: BE numbers assigned by the platform (ICES 1.5 flat files carry none: CACHI01
<TABLE>BE field 5 is X for a fresh BE, spec p. 13; the CHCAI02 acknowledgement returns the
number, p. 53): one sequence per custom house, never reused.

Revision ID: 0005
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE be_number_sequence (
            port_code text PRIMARY KEY,
            last_no   integer NOT NULL CHECK (last_no BETWEEN 1 AND 9999999)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE be_number_sequence")
