"""red/white/yellow lists and the monthly white-list push (issue 14, items 4-5)

Revision ID: c15a00000004
Revises: c15a00000003
Create Date: 2026-12-06 23:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'c15a00000004'
down_revision = 'c15a00000003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
