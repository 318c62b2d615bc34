"""Issue 9: the rule-set versions whose faceless assessment routing (RMS-FAG-1) rms-router
has published on `clearance.assessment-routing.published.v1`: one row per version, written
in the transaction that puts the event in the outbox, so each version is published once.

Revision ID: 0005
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE assessment_routing_published (
            policy_id    text NOT NULL,
            version      integer NOT NULL,
            published_at timestamptz NOT NULL,
            PRIMARY KEY (policy_id, version)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE assessment_routing_published")
