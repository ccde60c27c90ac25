"""the bureau's stuck list: partial indexes on the moments it filters by (SLA due, claim last
touched, question asked, confirmation link expiry)

Revision ID: c13a00000002
Revises: c13a00000001
Create Date: 2026-12-06 20:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c13a00000002'
down_revision = 'c13a00000001'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_financing_requests_sla_due_at", "financing_requests", "sla_due_at", "sla_due_at IS NOT NULL"),
    ("ix_assignments_open_touched_at", "assignments", "touched_at", "ended_at IS NULL"),
    ("ix_info_requests_unanswered_asked_at", "info_requests", "asked_at", "answered_at IS NULL"),
    ("ix_confirmation_links_unused_expires_at", "confirmation_links", "expires_at",
     "used_at IS NULL AND revoked_at IS NULL"),
)


def upgrade():
    for name, table, column, where in INDEXES:
        op.create_index(name, table, [column], unique=False,
                        postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade():
    for name, table, _column, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)
