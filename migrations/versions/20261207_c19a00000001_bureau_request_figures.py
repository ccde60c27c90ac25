"""issue 13 - the bureau's per-request figures and stay-length histograms

Revision ID: c19a00000001
Revises: c18a00000001
Create Date: 2026-12-07 01:30:00

The dashboard's figures read kept rows instead of probing four tables per request and sorting a
region's stays on every page (docs/performance.md, issue 13):

- request_figures: one row per submitted request (region, submission moment, amount, class and
  the funnel's flags, the loan's date and amount), indexed by region prefix and moment with
  varchar_pattern_ops (the database collation is C.UTF-8: a plain b-tree cannot serve
  `LIKE '3205%'` as a range) and the counted columns included, so a bureau's range is one
  index-only scan;
- request_institution_figures: one row per request and bank or guarantor (targets routed,
  an offer that left the bank, declines, the loan), the dashboard's table of institutions;
- request_figures_monthly: those rows summed per region level (0, 2, 4 and 6 characters), month
  and metric (the funnel's stages, the classes, the loans, each institution's tallies), kept
  from the rows' changes: a bureau's whole months are read here, the edge months from the rows;
- request_stay_lengths: finished stays counted per region prefix (0, 2, 4 and 6 characters),
  month, state, institution and length bucket; the turnaround's median and p90 come from them;
- ix_request_stays_entered_finished: the finished stays of a range's partial edge months.

The histograms are filled from the existing records (as c13a00000001 fills the stays); the figures
rows by c22a00000001.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c19a00000001'
down_revision = 'c18a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "request_figures",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("routed", sa.Boolean(), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.Column("financed", sa.Boolean(), nullable=False),
        sa.Column("financed_on", sa.Date(), nullable=True),
        sa.Column("financed_amount", sa.Numeric(18, 2), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["financing_requests.id"], ondelete="CASCADE",
                                name=op.f("fk_request_figures_request_id_financing_requests")),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_request_figures")),
    )
    op.create_index("ix_request_figures_region_submitted", "request_figures", ["region_code", "submitted_at"],
                    postgresql_ops={"region_code": "varchar_pattern_ops"},
                    postgresql_include=["amount", "classification", "verified", "routed", "offered", "financed"])
    op.create_index("ix_request_figures_region_financed", "request_figures", ["region_code", "financed_on"],
                    postgresql_ops={"region_code": "varchar_pattern_ops"}, postgresql_include=["financed_amount"],
                    postgresql_where=sa.text("financed_on IS NOT NULL"))
    op.create_table(
        "request_institution_figures",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("routed", sa.Integer(), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.Column("declined", sa.Integer(), nullable=False),
        sa.Column("financed", sa.Integer(), nullable=False),
        sa.Column("financed_amount", sa.Numeric(18, 2), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["financing_requests.id"], ondelete="CASCADE",
                                name=op.f("fk_request_institution_figures_request_id_financing_requests")),
        sa.ForeignKeyConstraint(["institution_id"], ["organisations.id"],
                                name=op.f("fk_request_institution_figures_institution_id_organisations")),
        sa.PrimaryKeyConstraint("request_id", "institution_id", name=op.f("pk_request_institution_figures")),
    )
    op.create_index("ix_request_institution_figures_region_submitted", "request_institution_figures",
                    ["region_code", "submitted_at"], postgresql_ops={"region_code": "varchar_pattern_ops"},
                    postgresql_include=["institution_id", "routed", "offered", "declined", "financed",
                                        "financed_amount"])
    op.create_table(
        "request_figures_monthly",
        sa.Column("region_prefix", sa.String(length=6), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("key", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.PrimaryKeyConstraint("region_prefix", "month", "metric", "key", name=op.f("pk_request_figures_monthly")),
    )
    op.create_table(
        "request_stay_lengths",
        sa.Column("region_prefix", sa.String(length=6), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region_prefix", "month", "state", "institution_id", "bucket",
                                name=op.f("pk_request_stay_lengths")),
    )
    op.create_index("ix_request_stay_lengths_read", "request_stay_lengths", ["region_prefix", "month"],
                    postgresql_include=["state", "institution_id", "bucket", "n"])
    op.create_index("ix_request_stays_entered_finished", "request_stays", ["entered_at"],
                    postgresql_include=["region_code", "state", "institution_id", "seconds"],
                    postgresql_where=sa.text("seconds IS NOT NULL"))
    fill_kept_rows()


def fill_kept_rows():
    """The stays and their histograms of the records already there. The figures rows are written
    by c22a00000001 (the figures' rebuild of today writes a table that revision adds)."""
    if not op.get_bind().execute(sa.text("SELECT EXISTS (SELECT 1 FROM financing_requests)")).scalar():
        return  # a new database: nothing to fill, no app code run (see c13a00000001's fill)
    from marketplace.bureau import stay_lengths, stays

    stays.backfill(op.get_bind())
    stay_lengths.rebuild(op.get_bind())


def downgrade():
    op.drop_index("ix_request_stays_entered_finished", table_name="request_stays")
    op.drop_index("ix_request_stay_lengths_read", table_name="request_stay_lengths")
    op.drop_table("request_stay_lengths")
    op.drop_table("request_figures_monthly")
    op.drop_index("ix_request_institution_figures_region_submitted", table_name="request_institution_figures")
    op.drop_table("request_institution_figures")
    op.drop_index("ix_request_figures_region_financed", table_name="request_figures")
    op.drop_index("ix_request_figures_region_submitted", table_name="request_figures")
    op.drop_table("request_figures")
