"""issue 15 - the matcher's institution records from kept rows

Revision ID: c23a00000001
Revises: c22a00000001
Create Date: 2026-12-07 11:00:00

The matcher's institution records (median days to a decision, share of offers) joined every
offer and decline to its target on each call: 1.5-2 s at province scale, paid again by every
process after every decision. One row per decided target now (target_decisions, kept by
marketplace/supermarket/decision_records.py), filled here from the decisions already there with
this revision's own SQL (no app code: it must run the same on a new database years from now).
"""
from alembic import op
import sqlalchemy as sa

revision = 'c23a00000001'
down_revision = 'c22a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "target_decisions",
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.Column("days", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["target_id"], ["request_targets.id"], ondelete="CASCADE",
                                name=op.f("fk_target_decisions_target_id_request_targets")),
        sa.ForeignKeyConstraint(["institution_id"], ["organisations.id"],
                                name=op.f("fk_target_decisions_institution_id_organisations")),
        sa.PrimaryKeyConstraint("target_id", name=op.f("pk_target_decisions")),
    )
    op.create_index("ix_target_decisions_institution_days", "target_decisions", ["institution_id", "days"],
                    postgresql_include=["offered"])
    fill()


def fill():
    """A target with an approved offer: offered, days to the first approval; else days to the
    first decline; only targets that were routed; days never negative."""
    targets = sa.table("request_targets", sa.column("id"), sa.column("institution_id"), sa.column("routed_at"))
    offers = sa.table("offers", sa.column("target_id"), sa.column("approved_at"))
    declines = sa.table("declines", sa.column("target_id"), sa.column("created_at"))
    epoch = lambda column: sa.func.extract("epoch", column)  # noqa: E731
    offer = (sa.select(offers.c.target_id, sa.func.min(epoch(offers.c.approved_at)).label("at"))
             .where(offers.c.approved_at.is_not(None)).group_by(offers.c.target_id).subquery())
    decline = (sa.select(declines.c.target_id, sa.func.min(epoch(declines.c.created_at)).label("at"))
               .group_by(declines.c.target_id).subquery())
    days = sa.cast(sa.func.coalesce(offer.c.at, decline.c.at) - epoch(targets.c.routed_at), sa.Float) / 86400
    rows = (sa.select(targets.c.id, targets.c.institution_id, offer.c.at.is_not(None),
                      sa.case((days < 0, 0.0), else_=days))
            .outerjoin(offer, offer.c.target_id == targets.c.id)
            .outerjoin(decline, decline.c.target_id == targets.c.id)
            .where(targets.c.routed_at.is_not(None), offer.c.at.is_not(None) | decline.c.at.is_not(None)))
    kept = sa.table("target_decisions", sa.column("target_id"), sa.column("institution_id"), sa.column("offered"),
                    sa.column("days"))
    op.get_bind().execute(sa.insert(kept).from_select(["target_id", "institution_id", "offered", "days"], rows))


def downgrade():
    op.drop_index("ix_target_decisions_institution_days", table_name="target_decisions")
    op.drop_table("target_decisions")
