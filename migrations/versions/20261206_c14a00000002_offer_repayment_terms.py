"""offer repayment terms: the early repayment fee rate (percent of the principal repaid early,
0..5) and whether an instalment due on a weekend or public holiday is due on the next working
day, stated on the offer instead of typed by the bank when it records a prepayment or ticked on
the schedule form

Existing rows keep today's behaviour:
- prepayment_fee_rate = 0 (no fee) for every existing offer. Fees already recorded on
  repayments stay as they were recorded.
- roll_to_working_day = the loan's own flag for an offer with a loan (what the schedule form
  recorded), false for the others (the schedule form's box was unticked by default). New offers
  default to true (the common practice of Chinese banks): the server default becomes true once
  the existing rows are filled.

Revision ID: c14a00000002
Revises: c14a00000001
Create Date: 2026-12-06 21:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c14a00000002'
down_revision = 'c14a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prepayment_fee_rate', sa.Numeric(precision=5, scale=2), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('roll_to_working_day', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_offers_prepayment_fee_rate_range'),
                                         "prepayment_fee_rate >= 0 AND prepayment_fee_rate <= 5")
    op.execute("UPDATE offers SET roll_to_working_day = (SELECT loans.roll_to_working_day FROM loans "
               "WHERE loans.offer_id = offers.id) WHERE id IN (SELECT offer_id FROM loans)")
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.alter_column('roll_to_working_day', existing_type=sa.Boolean(), existing_nullable=False,
                              server_default=sa.text('true'))


def downgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_offers_prepayment_fee_rate_range'), type_='check')
        batch_op.drop_column('roll_to_working_day')
        batch_op.drop_column('prepayment_fee_rate')
