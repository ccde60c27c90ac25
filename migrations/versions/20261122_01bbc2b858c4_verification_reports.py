"""verification reports (immutable, one per request submission); routing status on request targets

Revision ID: 01bbc2b858c4
Revises: 7bee2dd13d92
Create Date: 2026-11-22

The database refuses UPDATE and DELETE on verification_reports, as it does on audit_events: a
report is what the platform decided with, and stays as it was written.
"""
import sqlalchemy as sa
from alembic import op

revision = "01bbc2b858c4"
down_revision = "7bee2dd13d92"
branch_labels = None
depends_on = None

MESSAGE = "verification_reports are immutable"
TARGET_STATUSES = ("chosen", "routed", "waiting", "reviewing", "info_requested", "offered", "declined",
                   "accepted", "closed")


def upgrade():
    op.create_table(
        "verification_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("submission_no", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("policy_version", sa.String(length=20), nullable=False),
        sa.Column("policy_effective_from", sa.Date(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("statement_sha256s", sa.JSON(), nullable=False),
        sa.Column("receivables_sha256", sa.String(length=64), nullable=False),
        sa.Column("requested_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("pledged_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("classification IN ('excellent', 'mixed', 'poor')",
                           name=op.f("ck_verification_reports_classification")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_verification_reports_enterprise_id_enterprises")),
        sa.ForeignKeyConstraint(["request_id"], ["financing_requests.id"],
                                name=op.f("fk_verification_reports_request_id_financing_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_reports")),
        sa.UniqueConstraint("request_id", "submission_no",
                            name=op.f("uq_verification_reports_request_id_submission_no")),
    )
    with op.batch_alter_table("verification_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verification_reports_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_verification_reports_request_id"), ["request_id"], unique=False)

    statuses = ", ".join(f"'{s}'" for s in TARGET_STATUSES)
    with op.batch_alter_table("request_targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="chosen", nullable=False))
        batch_op.add_column(sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("explanation", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_request_targets_status"), ["status"], unique=False)
        batch_op.drop_constraint(op.f("ck_request_targets_rank"), type_="check")
        batch_op.create_check_constraint("rank", "rank >= 1")
        batch_op.create_check_constraint("status", f"status IN ({statuses})")
        batch_op.create_check_constraint("routed_at_set", "status IN ('chosen', 'waiting') OR routed_at IS NOT NULL")

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION verification_reports_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$""")
        op.execute("""CREATE TRIGGER verification_reports_no_change BEFORE UPDATE OR DELETE ON verification_reports
                      FOR EACH ROW EXECUTE FUNCTION verification_reports_immutable()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER verification_reports_no_{verb.lower()} BEFORE {verb} ON verification_reports
                           BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER verification_reports_no_change ON verification_reports")
        op.execute("DROP FUNCTION verification_reports_immutable()")
    else:
        op.execute("DROP TRIGGER verification_reports_no_update")
        op.execute("DROP TRIGGER verification_reports_no_delete")
    with op.batch_alter_table("request_targets", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_request_targets_routed_at_set"), type_="check")
        batch_op.drop_constraint(op.f("ck_request_targets_status"), type_="check")
        batch_op.drop_constraint(op.f("ck_request_targets_rank"), type_="check")
        batch_op.create_check_constraint("rank", "rank BETWEEN 1 AND 3")
        batch_op.drop_index(batch_op.f("ix_request_targets_status"))
        batch_op.drop_column("explanation")
        batch_op.drop_column("routed_at")
        batch_op.drop_column("status")
    with op.batch_alter_table("verification_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_reports_request_id"))
        batch_op.drop_index(batch_op.f("ix_verification_reports_enterprise_id"))
    op.drop_table("verification_reports")
