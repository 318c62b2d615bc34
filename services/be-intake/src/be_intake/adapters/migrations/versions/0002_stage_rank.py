"""The status view keeps each stage's rank, so one statement can fold an event.

Revision ID: 0002
"""

from alembic import op
from be_intake.domain.status import STAGE_RANK

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE bill_of_entry_status ADD COLUMN stage_rank integer NOT NULL DEFAULT 0")
    for stage, rank in STAGE_RANK.items():
        op.execute(f"UPDATE bill_of_entry_status SET stage_rank = {rank} WHERE stage = '{stage}'")


def downgrade() -> None:
    op.execute("ALTER TABLE bill_of_entry_status DROP COLUMN stage_rank")
