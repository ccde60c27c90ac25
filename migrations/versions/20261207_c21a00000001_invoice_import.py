"""issue 19 - receivables from the tax bureau's invoice list

Revision ID: c21a00000001
Revises: c20a00000002
Create Date: 2026-12-07 01:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'c21a00000001'
down_revision = 'c20a00000002'
branch_labels = None
depends_on = None


def upgrade():
    # the enterprise's default payment term, asked once at its first invoice import
    op.add_column('enterprises', sa.Column('default_payment_term_days', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('enterprises', 'default_payment_term_days')
