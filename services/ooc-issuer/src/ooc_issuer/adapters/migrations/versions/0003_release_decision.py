"""The release decision on facts from their owners (issue 13): the officer's queue, the
BE copies for the e-OOC, rendered e-OOCs, custodians' callbacks and mailboxes.

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE clearance_case
            ADD COLUMN grantable      boolean NOT NULL DEFAULT false,
            ADD COLUMN queued_at      timestamptz,
            ADD COLUMN custodian_code text
        """
    )
    # RMS-QUEUE-1: the OOC officer's first-in first-out queue per customs location.
    op.execute(
        "CREATE INDEX clearance_case_queue ON clearance_case (port_code, queued_at) "
        "WHERE queued_at IS NOT NULL"
    )
    op.execute(
        """
        CREATE TABLE bill_of_entry_copy (
            port_code  text NOT NULL,
            be_no      text NOT NULL,
            be_date    date NOT NULL,
            version    integer NOT NULL,
            data       jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (port_code, be_no, be_date, version)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE e_ooc_document (
            port_code   text NOT NULL,
            be_no       text NOT NULL,
            be_date     date NOT NULL,
            pdf         bytea NOT NULL,
            sha256      text NOT NULL,
            rendered_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (port_code, be_no, be_date)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE custodian_endpoint (
            custodian_code       text PRIMARY KEY,
            url                  text NOT NULL,
            secret               text NOT NULL,
            state                text NOT NULL DEFAULT 'active'
                                 CHECK (state IN ('active', 'blocked')),
            consecutive_failures integer NOT NULL DEFAULT 0,
            verified_at          timestamptz NOT NULL,
            blocked_at           timestamptz,
            unblocked_at         timestamptz
        )
        """
    )
    op.execute(
        """
        CREATE TABLE custodian_notification (
            id              bigserial PRIMARY KEY,
            custodian_code  text NOT NULL,
            gatepass_no     text NOT NULL UNIQUE,
            port_code       text NOT NULL,
            be_no           text NOT NULL,
            be_date         date NOT NULL,
            payload         jsonb NOT NULL,
            created_at      timestamptz NOT NULL DEFAULT now(),
            acknowledged_at timestamptz,
            acknowledged_by text CHECK (acknowledged_by IN ('push', 'pull'))
        )
        """
    )
    op.execute(
        "CREATE INDEX custodian_notification_unacknowledged ON custodian_notification "
        "(custodian_code, id) WHERE acknowledged_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP TABLE custodian_notification")
    op.execute("DROP TABLE custodian_endpoint")
    op.execute("DROP TABLE e_ooc_document")
    op.execute("DROP TABLE bill_of_entry_copy")
    op.execute("DROP INDEX clearance_case_queue")
    op.execute(
        "ALTER TABLE clearance_case DROP COLUMN grantable, DROP COLUMN queued_at, "
        "DROP COLUMN custodian_code"
    )
