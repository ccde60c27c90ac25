"""statements: uploaded bank statement files (summary and hash) and their parsed transactions

Revision ID: d2682d10819e
Revises: 5e1f0a7b3c2d
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'd2682d10819e'
down_revision = '5e1f0a7b3c2d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statement_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('bank', sa.String(length=100), nullable=False),
    sa.Column('account_no', sa.String(length=64), nullable=False),
    sa.Column('account_name', sa.String(length=200), nullable=False),
    sa.Column('first_date', sa.Date(), nullable=False),
    sa.Column('last_date', sa.Date(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('inflow_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('outflow_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_statement_files_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_statement_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_files')),
    sa.UniqueConstraint('enterprise_id', 'sha256', name=op.f('uq_statement_files_enterprise_id_sha256'))
    )
    with op.batch_alter_table('statement_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_files_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('statement_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('balance', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('counterparty', sa.String(length=200), nullable=False),
    sa.Column('counterparty_account', sa.String(length=64), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['statement_id'], ['statement_files.id'], name=op.f('fk_statement_transactions_statement_id_statement_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_transactions'))
    )
    with op.batch_alter_table('statement_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_transactions_date'), ['date'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_transactions_statement_id'), ['statement_id'], unique=False)



def downgrade():
    with op.batch_alter_table('statement_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_transactions_statement_id'))
        batch_op.drop_index(batch_op.f('ix_statement_transactions_date'))

    op.drop_table('statement_transactions')
    with op.batch_alter_table('statement_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_files_enterprise_id'))

    op.drop_table('statement_files')
