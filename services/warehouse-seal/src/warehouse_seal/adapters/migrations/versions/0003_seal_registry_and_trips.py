"""The seal registry, trips, warehousing BEs, seal claims, exemptions and refusals.

Revision ID: 0003
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE seal_sale (
            seal_no        text PRIMARY KEY,
            tid            text NOT NULL,
            vendor_brand   text NOT NULL,
            warehouse_code text NOT NULL,
            sold_at        timestamptz NOT NULL,
            data           jsonb NOT NULL,
            recorded_at    timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE seal_trip (
            seal_no      text PRIMARY KEY,
            movement     text NOT NULL,
            document_key text NOT NULL,
            state        text NOT NULL,
            data         jsonb NOT NULL,
            updated_at   timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX seal_trip_document ON seal_trip (document_key)")
    op.execute(
        """
        CREATE TABLE seal_claim (
            seal_no text PRIMARY KEY,
            be_key  text NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE warehousing_be (
            be_key  text PRIMARY KEY,
            version integer NOT NULL,
            data    jsonb NOT NULL
        )
        """
    )
    op.execute("CREATE TABLE seal_exemption (be_key text PRIMARY KEY, data jsonb NOT NULL)")
    op.execute(
        """
        CREATE TABLE seal_refusal (
            id         bigserial PRIMARY KEY,
            seal_no    text NOT NULL,
            what       text NOT NULL,
            reasons    jsonb NOT NULL,
            payload    jsonb NOT NULL,
            refused_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX seal_refusal_seal ON seal_refusal (seal_no)")


def downgrade() -> None:
    for table in (
        "seal_refusal",
        "seal_exemption",
        "warehousing_be",
        "seal_claim",
        "seal_trip",
        "seal_sale",
    ):
        op.execute(f"DROP TABLE {table}")
