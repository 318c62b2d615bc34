"""Issue 8: the BE's case (status, facts of every party), versions, raw submissions, the
timeline, the AEO directory and the carriers' arrivals.

The rank-based status view (`bill_of_entry_status`) gives way to the case; its history
rows move to the timeline.

Revision ID: 0004
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("ALTER TABLE bill_of_entry ADD COLUMN filer text")
    op.execute("ALTER TABLE bill_of_entry ADD COLUMN user_job_no text")
    op.execute("ALTER TABLE bill_of_entry ADD COLUMN user_job_date date")
    op.execute(
        "UPDATE bill_of_entry SET filer = coalesce(nullif(filing->>'customs_broker_code', "
        "'SELFSUBMITCH001'), iec), user_job_no = filing->>'user_job_no', "
        "user_job_date = CAST(filing->>'user_job_date' AS date)"
    )
    # Duplicates: the same job number and date from the same filer register one BE. BEs
    # registered twice under one job before this rule keep their registration; the first
    # holds the job key (the filing itself still carries the job number).
    op.execute(
        "UPDATE bill_of_entry b SET user_job_no = NULL FROM bill_of_entry e "
        "WHERE b.filer = e.filer AND b.user_job_no = e.user_job_no "
        "AND b.user_job_date = e.user_job_date AND e.ctid < b.ctid"
    )
    op.execute(
        "CREATE UNIQUE INDEX bill_of_entry_job ON bill_of_entry (filer, user_job_no, "
        "user_job_date) WHERE user_job_no IS NOT NULL AND user_job_date IS NOT NULL"
    )
    op.execute(
        """
        CREATE TABLE intake_case (
            port_code    text NOT NULL,
            be_no        text NOT NULL,
            be_date      date NOT NULL,
            version      integer NOT NULL,
            registered   boolean NOT NULL,
            status       text,
            notice_code  text,
            iec          text,
            filer        text,
            igm_no       text,
            igm_date     date,
            master_bills text[] NOT NULL DEFAULT '{}',
            state        jsonb NOT NULL,
            updated_at   timestamptz NOT NULL,
            PRIMARY KEY (port_code, be_no, be_date)
        )
        """
    )
    op.execute("CREATE INDEX intake_case_iec ON intake_case (iec, be_date)")
    op.execute("CREATE INDEX intake_case_status ON intake_case (status, be_date)")
    op.execute("CREATE INDEX intake_case_igm ON intake_case (port_code, igm_no, igm_date)")
    op.execute("CREATE INDEX intake_case_bills ON intake_case USING gin (master_bills)")
    op.execute(
        """
        CREATE TABLE bill_of_entry_version (
            port_code      text NOT NULL,
            be_no          text NOT NULL,
            be_date        date NOT NULL,
            version        integer NOT NULL,
            bill_of_entry  jsonb NOT NULL,
            amendment      jsonb,
            event_id       text NOT NULL,
            registered_at  timestamptz NOT NULL,
            PRIMARY KEY (port_code, be_no, be_date, version)
        )
        """
    )
    op.execute(
        "INSERT INTO bill_of_entry_version (port_code, be_no, be_date, version, bill_of_entry, "
        "event_id, registered_at) SELECT port_code, be_no, be_date, version, filing, "
        "filed_event_id, registered_at FROM bill_of_entry"
    )
    op.execute(
        """
        CREATE TABLE submission (
            id          bigserial PRIMARY KEY,
            kind        text NOT NULL,
            port_code   text,
            be_no       text,
            be_date     date,
            event_id    text NOT NULL,
            outcome     text NOT NULL,
            reasons     jsonb NOT NULL,
            raw         jsonb NOT NULL,
            received_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX submission_be ON submission (port_code, be_no, be_date)")
    op.execute(
        """
        CREATE TABLE timeline (
            id          bigserial PRIMARY KEY,
            port_code   text NOT NULL,
            be_no       text NOT NULL,
            be_date     date NOT NULL,
            version     integer NOT NULL,
            event_type  text NOT NULL,
            producer    text NOT NULL,
            summary     text NOT NULL,
            status      text,
            notice_code text,
            reasons     jsonb NOT NULL,
            at          timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX timeline_be ON timeline (port_code, be_no, be_date, id)")
    op.execute(
        "INSERT INTO timeline (port_code, be_no, be_date, version, event_type, producer, "
        "summary, reasons, at) SELECT port_code, be_no, be_date, version, event_type, "
        "split_part(event_type, '.', 1), stage, reasons, at FROM bill_of_entry_history ORDER BY id"
    )
    op.execute("DROP TABLE bill_of_entry_history")
    op.execute("DROP TABLE bill_of_entry_status")
    op.execute(
        """
        CREATE TABLE aeo_certificate (
            certificate_no text PRIMARY KEY,
            iec            text NOT NULL,
            tier           text NOT NULL,
            valid_from     date NOT NULL,
            valid_to       date NOT NULL,
            suspended_from date,
            revoked_from   date,
            entity_name    text,
            recorded_at    timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX aeo_certificate_iec ON aeo_certificate (iec)")
    op.execute(
        """
        CREATE TABLE carrier_arrival (
            port_code    text NOT NULL,
            igm_no       text NOT NULL,
            igm_date     date NOT NULL,
            inward_date  date NOT NULL,
            mode         text NOT NULL,
            master_bills text[] NOT NULL DEFAULT '{}',
            recorded_at  timestamptz NOT NULL,
            PRIMARY KEY (port_code, igm_no, igm_date)
        )
        """
    )
    op.execute("CREATE INDEX carrier_arrival_bills ON carrier_arrival USING gin (master_bills)")


def downgrade() -> None:
    for table in ("carrier_arrival", "aeo_certificate", "timeline", "submission"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP TABLE bill_of_entry_version")
    op.execute("DROP TABLE intake_case")
    op.execute("DROP INDEX bill_of_entry_job")
    for column in ("filer", "user_job_no", "user_job_date"):
        op.execute(f"ALTER TABLE bill_of_entry DROP COLUMN {column}")
    op.execute(
        """
        CREATE TABLE bill_of_entry_status (
            port_code text NOT NULL, be_no text NOT NULL, be_date date NOT NULL,
            stage text NOT NULL, reasons jsonb NOT NULL DEFAULT '[]', out_of_charge_no text,
            gatepass_no text, updated_at timestamptz NOT NULL DEFAULT now(),
            stage_rank integer NOT NULL DEFAULT 0, version integer NOT NULL DEFAULT 1,
            PRIMARY KEY (port_code, be_no, be_date)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE bill_of_entry_history (
            id bigserial PRIMARY KEY, port_code text NOT NULL, be_no text NOT NULL,
            be_date date NOT NULL, stage text NOT NULL, event_type text NOT NULL,
            reasons jsonb NOT NULL DEFAULT '[]', at timestamptz NOT NULL DEFAULT now(),
            version integer NOT NULL DEFAULT 1
        )
        """
    )
