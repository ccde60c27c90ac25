"""the credit file: retention and report (issue 14, items 1, 8, 9)

Revision ID: c15a00000005
Revises: c15a00000004
Create Date: 2026-12-06 23:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c15a00000005'
down_revision = 'c15a00000004'
branch_labels = None
depends_on = None


def upgrade():
    # a negative record past CREDIT_NEGATIVE_RETENTION_YEARS leaves every outward view
    # (marketplace.credit.access.visible_to); set by the daily retention task
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_expired_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.drop_column('retention_expired_at')
