"""objections (异议) and credit repair (信用修复) (issue 14, items 6-7)

Revision ID: c15a00000003
Revises: c15a00000002
Create Date: 2026-12-06 23:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'c15a00000003'
down_revision = 'c15a00000002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
