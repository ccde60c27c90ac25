"""credit grades: the grade model's results per enterprise, a history (issue 14, item 3)

Revision ID: c15a00000002
Revises: c15a00000001
Create Date: 2026-12-06 22:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c15a00000002'
down_revision = 'c15a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_grades',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('grade', sa.String(length=1), nullable=True),
        sa.Column('colour', sa.String(length=8), nullable=True),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('model_version', sa.String(length=20), nullable=False),
        sa.Column('evaluated_on', sa.Date(), nullable=False),
        sa.Column('inputs_digest', sa.String(length=64), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('trigger', sa.String(length=64), nullable=False),
        sa.CheckConstraint("grade IS NULL OR grade IN ('A', 'B', 'C', 'D')", name=op.f('ck_credit_grades_grade')),
        sa.CheckConstraint("colour IS NULL OR colour IN ('green', 'yellow', 'red', 'black')",
                           name=op.f('ck_credit_grades_colour')),
        sa.CheckConstraint("(grade IS NULL) = (score IS NULL) AND (grade IS NULL) = (colour IS NULL)",
                           name=op.f('ck_credit_grades_graded_together')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_credit_grades_enterprise_id_enterprises')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_grades')),
    )
    op.create_index('ix_credit_grades_enterprise_latest', 'credit_grades', ['enterprise_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_credit_grades_enterprise_latest', table_name='credit_grades')
    op.drop_table('credit_grades')
