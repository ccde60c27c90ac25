"""issue 13 - the bureau's decline reasons from kept rows

Revision ID: c22a00000001
Revises: c21a00000003
Create Date: 2026-12-07 05:00:00

The dashboard's decline reasons joined a region's range of requests to the declines on every
page (34 ms of the province's three years): now one row per request and reason
(request_decline_figures, kept with the other figures rows) and their monthly sums under the
metric "reason:<code>" in request_figures_monthly, whose metric column widens to hold it. Filled
from the records already there by the figures' own rebuild, as c19a00000001 fills them. Also
indexes by date first for the edge months of a wide region's range, and one on offers' approval
moments for the matcher's kept institution records.
"""
from alembic import op
import sqlalchemy as sa

revision = 'c22a00000001'
down_revision = 'c21a00000003'
branch_labels = None
depends_on = None


# The edge months of a wide region's range (a province's three years: funnel 11 -> 2 ms, loans
# 12 -> 1, institutions 15 -> 2 in the bench): by date first, the region filtered in the index.
DATE_FIRST = (
    ("ix_request_figures_submitted", "request_figures", "submitted_at",
     ["region_code", "amount", "classification", "verified", "routed", "offered", "financed"], None),
    ("ix_request_figures_financed", "request_figures", "financed_on", ["region_code", "financed_amount"],
     "financed_on IS NOT NULL"),
    ("ix_request_institution_figures_submitted", "request_institution_figures", "submitted_at",
     ["region_code", "institution_id", "routed", "offered", "declined", "financed", "financed_amount"], None),
)


def upgrade():
    op.create_table(
        "request_decline_figures",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["financing_requests.id"], ondelete="CASCADE",
                                name=op.f("fk_request_decline_figures_request_id_financing_requests")),
        sa.PrimaryKeyConstraint("request_id", "reason_code", name=op.f("pk_request_decline_figures")),
    )
    op.create_index("ix_request_decline_figures_region_submitted", "request_decline_figures",
                    ["region_code", "submitted_at"], postgresql_ops={"region_code": "varchar_pattern_ops"},
                    postgresql_include=["reason_code", "n"])
    op.create_index("ix_request_decline_figures_submitted", "request_decline_figures", ["submitted_at"],
                    postgresql_include=["region_code", "reason_code", "n"])
    for name, table, column, include, where in DATE_FIRST:
        op.create_index(name, table, [column], postgresql_include=include,
                        postgresql_where=sa.text(where) if where else None)
    # the matcher's institution records are kept while the decisions stay as they are: the latest
    # approval is one of the values that say so (marketplace/supermarket/matching.py)
    op.create_index("ix_offers_approved_at", "offers", ["approved_at"])
    with op.batch_alter_table("request_figures_monthly") as batch:
        batch.alter_column("metric", existing_type=sa.String(length=16), type_=sa.String(length=40),
                           existing_nullable=False)
    fill_kept_rows()


def fill_kept_rows():
    """The figures rows (now with the per-reason rows) and their monthly sums written anew."""
    if not op.get_bind().execute(sa.text("SELECT EXISTS (SELECT 1 FROM financing_requests)")).scalar():
        return  # a new database: nothing to fill, no app code run (see c13a00000001's fill)
    from marketplace.bureau.request_figures import rebuild

    rebuild(op.get_bind())


def downgrade():
    op.execute("DELETE FROM request_figures_monthly WHERE metric LIKE 'reason:%'")
    op.drop_index("ix_offers_approved_at", table_name="offers")
    for name, table, _column, _include, _where in DATE_FIRST:
        op.drop_index(name, table_name=table)
    op.drop_index("ix_request_decline_figures_submitted", table_name="request_decline_figures")
    with op.batch_alter_table("request_figures_monthly") as batch:
        batch.alter_column("metric", existing_type=sa.String(length=40), type_=sa.String(length=16),
                           existing_nullable=False)
    op.drop_index("ix_request_decline_figures_region_submitted", table_name="request_decline_figures")
    op.drop_table("request_decline_figures")
