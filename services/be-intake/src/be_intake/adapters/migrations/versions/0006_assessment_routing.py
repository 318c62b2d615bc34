"""Issue 9: rms-router's faceless assessment routing (RMS-FAG-1) as be-intake reads it from
`clearance.assessment-routing.published.v1`: a row per rule-set version (its period and
table), for the appraising group of the ICES acknowledgement CHCAI02 (field 23, spec p. 53).
rms-router owns the table; this is what it published, never edited here.

Revision ID: 0006
"""

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE assessment_routing (
            policy_id       text NOT NULL,
            version         integer NOT NULL,
            effective_from  timestamptz NOT NULL,
            effective_until timestamptz,
            source_document text NOT NULL,
            groups          jsonb NOT NULL,
            published_at    timestamptz NOT NULL,
            PRIMARY KEY (policy_id, version)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE assessment_routing")
