"""loan servicing: days past due history (overdue since, cured on), early repayments and
restructurings (prepayment and restructured lines, superseded lines kept, repayment kind and
fee), due days rolled off holidays

Revision ID: c14a00000001
Revises: c13a00000002
Create Date: 2026-12-06 20:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c14a00000001'
down_revision = 'c13a00000002'
branch_labels = None
depends_on = None

CURRENT = "superseded_at IS NULL"


def upgrade():
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roll_to_working_day', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))

    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), server_default='scheduled', nullable=False))
        batch_op.add_column(sa.Column('overdue_since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cured_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_instalments_loan_id_due_on'), type_='unique')
        batch_op.create_check_constraint(batch_op.f('ck_instalments_kind'), "kind IN ('scheduled', 'prepayment', 'restructured')")
        batch_op.create_check_constraint(batch_op.f('ck_instalments_cured_after_overdue'),
                                         "cured_on IS NULL OR overdue_since IS NOT NULL")
    op.create_index('uq_instalments_current_due_on', 'instalments', ['loan_id', 'due_on', 'kind'], unique=True,
                    postgresql_where=sa.text(CURRENT), sqlite_where=sa.text(CURRENT))
    # an instalment flagged overdue before this revision: it fell overdue the day after its due day
    op.execute("UPDATE instalments SET overdue_since = due_on + 1 WHERE overdue_flagged_at IS NOT NULL"
               if op.get_bind().dialect.name == "postgresql" else
               "UPDATE instalments SET overdue_since = date(due_on, '+1 day') WHERE overdue_flagged_at IS NOT NULL")

    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), server_default='regular', nullable=False))
        batch_op.add_column(sa.Column('fee', sa.Numeric(precision=18, scale=2), server_default='0', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_repayments_kind'), "kind IN ('regular', 'prepayment', 'payoff')")
        batch_op.create_check_constraint(batch_op.f('ck_repayments_fee_not_negative'), "fee >= 0")


def downgrade():
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_repayments_fee_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_repayments_kind'), type_='check')
        batch_op.drop_column('fee')
        batch_op.drop_column('kind')

    op.drop_index('uq_instalments_current_due_on', table_name='instalments')
    # superseded lines cannot survive the old unique (loan, due day): drop them first
    op.execute("DELETE FROM instalments WHERE superseded_at IS NOT NULL OR kind <> 'scheduled'")
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_instalments_cured_after_overdue'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_instalments_kind'), type_='check')
        batch_op.create_unique_constraint(batch_op.f('uq_instalments_loan_id_due_on'), ['loan_id', 'due_on'])
        batch_op.drop_column('superseded_at')
        batch_op.drop_column('cured_on')
        batch_op.drop_column('overdue_since')
        batch_op.drop_column('kind')

    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_column('roll_to_working_day')
