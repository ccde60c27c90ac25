"""calendar years: a year's official holidays and make-up working days set by a platform admin (issue 17)

Revision ID: c17a00000001
Revises: c15a00000005
Create Date: 2026-12-06 23:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c17a00000001'
down_revision = 'c15a00000005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'calendar_years',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('holidays', sa.JSON(), nullable=False),
        sa.Column('workdays', sa.JSON(), nullable=False),
        sa.Column('source_note', sa.String(length=200), nullable=False),
        sa.Column('set_by_id', sa.Integer(), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_calendar_years_year_in_range')),
        sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_calendar_years_set_by_id_users')),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years')),
    )


def downgrade():
    op.drop_table('calendar_years')
