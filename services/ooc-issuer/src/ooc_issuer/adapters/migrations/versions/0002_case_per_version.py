"""Cases decided per BE version: the version joined, the state, the held reasons.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE clearance_case
            ADD COLUMN version        integer NOT NULL DEFAULT 1,
            ADD COLUMN state          text NOT NULL DEFAULT 'awaiting_facts',
            ADD COLUMN held_reasons   jsonb NOT NULL DEFAULT '[]',
            ADD COLUMN issued_version integer
        """
    )
    op.execute(
        "UPDATE clearance_case SET state = CASE decision WHEN 'out_of_charge' THEN "
        "'out_of_charge' WHEN 'held' THEN 'held' ELSE 'awaiting_facts' END, "
        "held_reasons = CASE WHEN decision = 'held' THEN reasons ELSE '[]' END, "
        "issued_version = CASE WHEN decision = 'out_of_charge' THEN 1 END, facts = '{}'"
    )
    op.execute("ALTER TABLE clearance_case DROP COLUMN decision, DROP COLUMN reasons")


def downgrade() -> None:
    op.execute("ALTER TABLE clearance_case ADD COLUMN decision text, ADD COLUMN reasons jsonb")
    op.execute(
        "ALTER TABLE clearance_case DROP COLUMN version, DROP COLUMN state, "
        "DROP COLUMN held_reasons, DROP COLUMN issued_version"
    )
