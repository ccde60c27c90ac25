"""issue 16 - notifications stored as message key + parameters, rendered in the reader's language

Revision ID: c20a00000002
Revises: c20a00000001
Create Date: 2026-12-07 01:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'c20a00000002'
down_revision = 'c20a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_key', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('title_params', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('body_key', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('body_params', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('body_params')
        batch_op.drop_column('body_key')
        batch_op.drop_column('title_params')
        batch_op.drop_column('title_key')
