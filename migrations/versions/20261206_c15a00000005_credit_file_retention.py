"""the credit file: retention and report (issue 14, items 1, 8, 9)

Revision ID: c15a00000005
Revises: c15a00000004
Create Date: 2026-12-06 23:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'c15a00000005'
down_revision = 'c15a00000004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
