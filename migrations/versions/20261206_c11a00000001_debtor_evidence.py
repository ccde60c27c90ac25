"""debtor evidence: the enterprise's declaration kept apart from the debtor's own answer

Only the debtor's own act (the signed link, or its enterprise account) confirms or disputes a
receivable. What an enterprise stated in its import (confirmed_via 'import', or any answer that
names no debtor act) moves to the new declared_* columns, and the receivable is pending again.

Revision ID: c11a00000001
Revises: 5a7e1f0c9b2d
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "c11a00000001"
down_revision = "5a7e1f0c9b2d"
branch_labels = None
depends_on = None

# What the import used to write as the reason of a row marked 有异议: not a reason anyone gave.
IMPORT_DISPUTE_REASON = "导入时标记为有异议"
NOT_A_DEBTOR_ACT = "confirmation != 'pending' AND (confirmed_via IS NULL OR confirmed_via NOT IN ('link', 'account'))"


def upgrade():
    with op.batch_alter_table("receivables", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declared_confirmation", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("declared_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("declared_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_receivables_declared_by_id_users"), "users",
                                    ["declared_by_id"], ["id"])

    # The enterprise's own claims become declarations; the receivable awaits the debtor again.
    op.execute(sa.text(f"""
        UPDATE receivables SET
            declared_confirmation = confirmation,
            declared_at = COALESCE(confirmed_at, updated_at, created_at),
            declared_reason = CASE WHEN confirmation = 'disputed' AND dispute_reason IS DISTINCT FROM :marker
                                   THEN dispute_reason END,
            confirmation = 'pending',
            confirmed_via = NULL, confirmed_at = NULL, confirmed_ip = NULL, confirmed_by_name = NULL,
            confirmed_by_user_id = NULL, dispute_reason = NULL
        WHERE {NOT_A_DEBTOR_ACT}
    """).bindparams(marker=IMPORT_DISPUTE_REASON))
    # A pending receivable carries no answer's traces.
    op.execute(sa.text("""
        UPDATE receivables SET confirmed_via = NULL, confirmed_at = NULL, confirmed_ip = NULL,
            confirmed_by_name = NULL, confirmed_by_user_id = NULL, dispute_reason = NULL
        WHERE confirmation = 'pending'
    """))

    with op.batch_alter_table("receivables", schema=None) as batch_op:
        batch_op.create_check_constraint("confirmed_via", "confirmed_via IS NULL OR confirmed_via IN ('link', 'account')")
        batch_op.create_check_constraint(
            "debtor_answer",
            "(confirmation = 'pending' AND confirmed_via IS NULL AND confirmed_at IS NULL) OR "
            "(confirmation != 'pending' AND confirmed_via IS NOT NULL AND confirmed_at IS NOT NULL)")
        batch_op.create_check_constraint(
            "declared_confirmation", "declared_confirmation IS NULL OR declared_confirmation IN ('confirmed', 'disputed')")
        batch_op.create_check_constraint("declared_at", "(declared_confirmation IS NULL) = (declared_at IS NULL)")


def downgrade():
    with op.batch_alter_table("receivables", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_receivables_declared_at"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_receivables_declared_confirmation"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_receivables_debtor_answer"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_receivables_confirmed_via"), type_="check")

    # Declarations the debtor has not answered go back to the enterprise's claim, as before.
    op.execute(sa.text("""
        UPDATE receivables SET
            confirmation = declared_confirmation,
            confirmed_via = 'import',
            confirmed_at = declared_at,
            dispute_reason = CASE WHEN declared_confirmation = 'disputed'
                                  THEN COALESCE(declared_reason, :marker) END
        WHERE declared_confirmation IS NOT NULL AND confirmation = 'pending'
    """).bindparams(marker=IMPORT_DISPUTE_REASON))

    with op.batch_alter_table("receivables", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_receivables_declared_by_id_users"), type_="foreignkey")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("declared_reason")
        batch_op.drop_column("declared_by_id")
        batch_op.drop_column("declared_at")
        batch_op.drop_column("declared_confirmation")
