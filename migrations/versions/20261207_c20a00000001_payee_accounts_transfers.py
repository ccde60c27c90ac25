"""issue 16 - payee accounts and fee transfers recorded by the enterprise

Revision ID: c20a00000001
Revises: c19a00000001
Create Date: 2026-12-07 01:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c20a00000001'
down_revision = 'c19a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations') as batch:
        batch.add_column(sa.Column('payee_account_name', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('payee_bank_name', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('payee_account_number', sa.String(length=32), nullable=True))
        batch.create_check_constraint(
            'payee_account',
            '(payee_account_name IS NULL) = (payee_bank_name IS NULL) '
            'AND (payee_account_name IS NULL) = (payee_account_number IS NULL)')
    op.create_table(
        'fee_transfers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=64), nullable=False),
        sa.Column('account_name', sa.String(length=100), nullable=False),
        sa.Column('bank_name', sa.String(length=100), nullable=False),
        sa.Column('account_number', sa.String(length=32), nullable=False),
        sa.Column('receipt_name', sa.String(length=255), nullable=False),
        sa.Column('receipt_stored_name', sa.String(length=64), nullable=False),
        sa.Column('receipt_content_type', sa.String(length=64), nullable=False),
        sa.Column('receipt_size', sa.Integer(), nullable=False),
        sa.Column('receipt_sha256', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reject_reason', sa.String(length=500), nullable=True),
        sa.CheckConstraint("status IN ('recorded', 'confirmed', 'rejected')", name=op.f('ck_fee_transfers_status')),
        sa.CheckConstraint("(status = 'recorded') = (decided_at IS NULL) "
                           "AND (decided_at IS NULL) = (decided_by_id IS NULL)",
                           name=op.f('ck_fee_transfers_decided_together')),
        sa.CheckConstraint("(status = 'rejected') = (reject_reason IS NOT NULL)",
                           name=op.f('ck_fee_transfers_rejected_with_reason')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_fee_transfers_payment_id_payments')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_fee_transfers_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_fee_transfers_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_transfers')),
        sa.UniqueConstraint('receipt_stored_name', name=op.f('uq_fee_transfers_receipt_stored_name')),
    )
    op.create_index(op.f('ix_fee_transfers_payment_id'), 'fee_transfers', ['payment_id'], unique=False)
    op.create_index(op.f('ix_fee_transfers_status'), 'fee_transfers', ['status'], unique=False)
    op.create_index('uq_fee_transfers_recorded_payment', 'fee_transfers', ['payment_id'], unique=True,
                    sqlite_where=sa.text("status = 'recorded'"), postgresql_where=sa.text("status = 'recorded'"))


def downgrade():
    op.drop_index('uq_fee_transfers_recorded_payment', table_name='fee_transfers')
    op.drop_index(op.f('ix_fee_transfers_status'), table_name='fee_transfers')
    op.drop_index(op.f('ix_fee_transfers_payment_id'), table_name='fee_transfers')
    op.drop_table('fee_transfers')
    with op.batch_alter_table('organisations') as batch:
        batch.drop_constraint('ck_organisations_payee_account', type_='check')
        batch.drop_column('payee_account_number')
        batch.drop_column('payee_bank_name')
        batch.drop_column('payee_account_name')
