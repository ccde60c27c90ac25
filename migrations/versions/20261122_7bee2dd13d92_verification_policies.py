"""verification policies: versioned asset-quality thresholds, each in force from its effective date

Revision ID: 7bee2dd13d92
Revises: d2682d10819e
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '7bee2dd13d92'
down_revision = 'd2682d10819e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('policy_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('thresholds', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_policy_versions_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_versions')),
    sa.UniqueConstraint('version', name=op.f('uq_policy_versions_version'))
    )
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_versions_effective_from'), ['effective_from'], unique=False)


def downgrade():
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_versions_effective_from'))

    op.drop_table('policy_versions')
