"""Rules as data and the officers' work: BE files, decisions with their facts,
officers' tasks in FIFO queues, importers' records, an append-only audit trail.

The examination queue becomes examination tasks of the location queue.

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rms_bill_of_entry (
            port_code          text NOT NULL,
            be_no              text NOT NULL,
            be_date            date NOT NULL,
            iec                text,
            registered_version integer NOT NULL DEFAULT 0,
            decided_version    integer NOT NULL DEFAULT 0,
            assessment_group   text,
            pending            jsonb NOT NULL DEFAULT '{}',
            tampered_at_export jsonb,
            invalidated_at     timestamptz,
            PRIMARY KEY (port_code, be_no, be_date)
        )
        """
    )
    op.execute(
        """
        INSERT INTO rms_bill_of_entry (port_code, be_no, be_date, decided_version,
                                       assessment_group)
        SELECT DISTINCT ON (port_code, be_no, be_date) port_code, be_no, be_date, version,
               assessment_group
        FROM rms_decision ORDER BY port_code, be_no, be_date, version DESC
        """
    )
    for column in (
        "selections text[] NOT NULL DEFAULT '{}'",
        "rule_set_version integer",
        "fired_rules text[] NOT NULL DEFAULT '{}'",
        "examination_instructions text",
        "partner_agencies text[] NOT NULL DEFAULT '{}'",
        "interdiction jsonb",
        "facts jsonb",
    ):
        op.execute(f"ALTER TABLE rms_decision ADD COLUMN {column}")
    op.execute("CREATE SEQUENCE officer_task_position")
    op.execute(
        """
        CREATE TABLE officer_task (
            task_id          bigserial PRIMARY KEY,
            port_code        text NOT NULL,
            be_no            text NOT NULL,
            be_date          date NOT NULL,
            version          integer NOT NULL,
            kind             text NOT NULL
                CHECK (kind IN ('assessment', 'examination', 'scanning', 'pga_noc')),
            queue            text NOT NULL,
            agency           text,
            after_kind       text,
            instructions     text,
            state            text NOT NULL
                CHECK (state IN ('waiting', 'open', 'claimed', 'done', 'withdrawn')),
            position         bigint,
            summary          jsonb NOT NULL DEFAULT '{}',
            claimed_by       text,
            claim_no         integer NOT NULL DEFAULT 0,
            claimed_at       timestamptz,
            claim_expires_at timestamptz,
            created_at       timestamptz NOT NULL,
            opened_at        timestamptz,
            completed_at     timestamptz,
            result           jsonb
        )
        """
    )
    op.execute(
        "CREATE INDEX officer_task_queue ON officer_task (queue, position) WHERE state = 'open'"
    )
    op.execute("CREATE INDEX officer_task_bill ON officer_task (port_code, be_no, be_date)")
    op.execute(
        """
        INSERT INTO officer_task (port_code, be_no, be_date, version, kind, queue, state,
                                  position, created_at, opened_at)
        SELECT port_code, be_no, be_date, version, 'examination', 'location:' || port_code,
               'open', nextval('officer_task_position'), queued_at, queued_at
        FROM examination_queue ORDER BY position
        """
    )
    op.execute("DROP TABLE examination_queue")
    op.execute(
        """
        CREATE TABLE importer_history (
            iec           text PRIMARY KEY,
            examinations  integer NOT NULL DEFAULT 0,
            discrepancies integer NOT NULL DEFAULT 0,
            reassessments integer NOT NULL DEFAULT 0,
            refused_nocs  integer NOT NULL DEFAULT 0
        )
        """
    )
    op.execute(
        """
        CREATE TABLE audit_entry (
            entry_id  bigserial PRIMARY KEY,
            port_code text NOT NULL,
            be_no     text NOT NULL,
            be_date   date NOT NULL,
            version   integer NOT NULL,
            at        timestamptz NOT NULL,
            actor     text NOT NULL,
            action    text NOT NULL,
            reasons   jsonb NOT NULL DEFAULT '[]',
            detail    jsonb NOT NULL DEFAULT '{}'
        )
        """
    )
    op.execute("CREATE INDEX audit_entry_bill ON audit_entry (port_code, be_no, be_date, entry_id)")
    # Appended, never updated: the database refuses to change or delete an entry.
    op.execute(
        """
        CREATE FUNCTION audit_entry_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit trail is appended to, never changed (%)', TG_OP;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_is_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_is_append_only()"
    )


def downgrade() -> None:
    op.execute(
        """
        CREATE TABLE examination_queue (
            position         bigserial PRIMARY KEY,
            port_code        text NOT NULL,
            be_no            text NOT NULL,
            be_date          date NOT NULL,
            version          integer NOT NULL DEFAULT 1,
            assessment_group text,
            queued_at        timestamptz NOT NULL DEFAULT now(),
            UNIQUE (port_code, be_no, be_date)
        )
        """
    )
    op.execute(
        """
        INSERT INTO examination_queue (port_code, be_no, be_date, version, queued_at)
        SELECT DISTINCT ON (port_code, be_no, be_date) port_code, be_no, be_date, version,
               created_at
        FROM officer_task WHERE kind = 'examination' AND state IN ('open', 'claimed')
        ORDER BY port_code, be_no, be_date, position
        """
    )
    op.execute("DROP TABLE audit_entry")
    op.execute("DROP FUNCTION audit_entry_is_append_only()")
    op.execute("DROP TABLE importer_history")
    op.execute("DROP TABLE officer_task")
    op.execute("DROP SEQUENCE officer_task_position")
    for column in (
        "selections",
        "rule_set_version",
        "fired_rules",
        "examination_instructions",
        "partner_agencies",
        "interdiction",
        "facts",
    ):
        op.execute(f"ALTER TABLE rms_decision DROP COLUMN {column}")
    op.execute("DROP TABLE rms_bill_of_entry")
