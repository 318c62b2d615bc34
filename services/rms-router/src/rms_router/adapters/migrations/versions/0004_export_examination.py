"""Tasks and audit entries about a Shipping Bill: the examination of an export whose
RFID seal was tampered at the customs station (SEAL-TAMPER-1). `document` says what
port_code / be_no / be_date name (for a Shipping Bill: its custom house, number, date).

Revision ID: 0004
"""

from alembic import op

revision = "0004"
down_revision = "0003"

_DOCUMENT = (
    "document text NOT NULL DEFAULT 'bill_of_entry' "
    "CHECK (document IN ('bill_of_entry', 'shipping_bill'))"
)


def upgrade() -> None:
    op.execute(f"ALTER TABLE officer_task ADD COLUMN {_DOCUMENT}")
    op.execute(f"ALTER TABLE audit_entry ADD COLUMN {_DOCUMENT}")
    op.execute("DROP INDEX officer_task_bill")
    op.execute(
        "CREATE INDEX officer_task_bill ON officer_task (port_code, be_no, be_date, document)"
    )
    op.execute("DROP INDEX audit_entry_bill")
    op.execute(
        "CREATE INDEX audit_entry_bill ON audit_entry (port_code, be_no, be_date, document, "
        "entry_id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX audit_entry_bill")
    op.execute("CREATE INDEX audit_entry_bill ON audit_entry (port_code, be_no, be_date, entry_id)")
    op.execute("DROP INDEX officer_task_bill")
    op.execute("CREATE INDEX officer_task_bill ON officer_task (port_code, be_no, be_date)")
    op.execute("DROP TRIGGER audit_entry_append_only ON audit_entry")
    op.execute("DELETE FROM audit_entry WHERE document = 'shipping_bill'")
    op.execute(
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_is_append_only()"
    )
    op.execute("DELETE FROM officer_task WHERE document = 'shipping_bill'")
    op.execute("ALTER TABLE audit_entry DROP COLUMN document")
    op.execute("ALTER TABLE officer_task DROP COLUMN document")
