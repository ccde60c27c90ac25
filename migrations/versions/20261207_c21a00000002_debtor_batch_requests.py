"""issue 19 - debtor confirmation requests in one go

Revision ID: c21a00000002
Revises: c21a00000001
Create Date: 2026-12-07 01:30:00

debtor_requests: one request to one debtor covering several receivables, reached by a random
token found by its SHA-256 (token_hash) and kept encrypted (token, Fernet text) for the letter's
reprint and the reminder; debtor_request_lines: its receivables with the facts shown and the
debtor's result per line.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c21a00000002'
down_revision = 'c21a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "debtor_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("debtor_uscc", sa.String(length=18), nullable=False),
        sa.Column("debtor_name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_name", sa.String(length=100), nullable=True),
        sa.Column("answered_ip", sa.String(length=64), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel != 'email' OR email IS NOT NULL", name=op.f("ck_debtor_requests_email_needed")),
        sa.CheckConstraint("channel IN ('email', 'letter')", name=op.f("ck_debtor_requests_channel")),
        sa.CheckConstraint("(answered_at IS NULL) = (answered_by_name IS NULL)",
                           name=op.f("ck_debtor_requests_answered_by")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_debtor_requests_created_by_id_users")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_debtor_requests_enterprise_id_enterprises")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtor_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_debtor_requests_token_hash")),
    )
    op.create_index(op.f("ix_debtor_requests_enterprise_id"), "debtor_requests", ["enterprise_id"], unique=False)
    op.create_table(
        "debtor_request_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("receivable_id", sa.Integer(), nullable=False),
        sa.Column("invoice_no", sa.String(length=64), nullable=False),
        sa.Column("face_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.CheckConstraint("result IS NULL OR result IN ('confirmed', 'disputed', 'skipped')",
                           name=op.f("ck_debtor_request_lines_result")),
        sa.ForeignKeyConstraint(["receivable_id"], ["receivables.id"], ondelete="CASCADE",
                                name=op.f("fk_debtor_request_lines_receivable_id_receivables")),
        sa.ForeignKeyConstraint(["request_id"], ["debtor_requests.id"], ondelete="CASCADE",
                                name=op.f("fk_debtor_request_lines_request_id_debtor_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtor_request_lines")),
        sa.UniqueConstraint("request_id", "receivable_id", name=op.f("uq_debtor_request_lines_request_id_receivable_id")),
    )
    op.create_index(op.f("ix_debtor_request_lines_receivable_id"), "debtor_request_lines", ["receivable_id"],
                    unique=False)


def downgrade():
    op.drop_index(op.f("ix_debtor_request_lines_receivable_id"), table_name="debtor_request_lines")
    op.drop_table("debtor_request_lines")
    op.drop_index(op.f("ix_debtor_requests_enterprise_id"), table_name="debtor_requests")
    op.drop_table("debtor_requests")
