"""The status view keeps each stage's rank, so one statement can fold an event.

(The view gave way to the BE's case in revision 0004; the ranks are written here as
they were, so the revision stands alone.)

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"

STAGE_RANK = {
    "filed": 0,
    "rejected": 0,
    "registered": 1,
    "bis_verified": 2,
    "rms_decided": 3,
    "seal_reconciled": 4,
    "held": 5,
    "out_of_charge": 6,
}


def upgrade() -> None:
    op.execute("ALTER TABLE bill_of_entry_status ADD COLUMN stage_rank integer NOT NULL DEFAULT 0")
    for stage, rank in STAGE_RANK.items():
        op.execute(f"UPDATE bill_of_entry_status SET stage_rank = {rank} WHERE stage = '{stage}'")


def downgrade() -> None:
    op.execute("ALTER TABLE bill_of_entry_status DROP COLUMN stage_rank")
