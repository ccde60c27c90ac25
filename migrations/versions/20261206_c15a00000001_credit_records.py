"""credit records from data providers: the provider organisation kind with its one source, the
provider staff role, and the credit_records table (issue 14, item 2)

Existing organisations are not providers and keep credit_source NULL.

Revision ID: c15a00000001
Revises: c14a00000002
Create Date: 2026-12-06 22:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c15a00000001'
down_revision = 'c14a00000002'
branch_labels = None
depends_on = None

SOURCES = "'tax', 'utilities', 'social_insurance', 'housing_fund', 'court', 'market_regulator'"
KINDS = ("'abnormal_operation', 'contract_honouring', 'court_case_filed', 'court_enforcement', 'court_judgment', "
         "'dishonest_debtor', 'housing_fund_arrears', 'housing_fund_paid', 'license_revoked', 'penalty', "
         "'serious_violation', 'social_insurance_arrears', 'social_insurance_paid', 'tax_arrears', 'tax_credit_a', "
         "'tax_paid', 'tax_violation', 'utility_arrears', 'utility_paid'")
OLD_KINDS = "'bank', 'bureau', 'enterprise', 'guarantor', 'platform'"
NEW_KINDS = "'bank', 'bureau', 'enterprise', 'guarantor', 'platform', 'provider'"
OLD_ROLES = ("'bank:approver', 'bank:officer', 'bureau:coordinator', 'enterprise:admin', 'enterprise:applicant', "
             "'guarantor:approver', 'guarantor:officer', 'platform:admin'")
NEW_ROLES = ("'bank:approver', 'bank:officer', 'bureau:coordinator', 'enterprise:admin', 'enterprise:applicant', "
             "'guarantor:approver', 'guarantor:officer', 'platform:admin', 'provider:staff'")


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_source', sa.String(length=32), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_organisations_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_organisations_kind'), f"kind IN ({NEW_KINDS})")
        batch_op.create_check_constraint(
            batch_op.f('ck_organisations_credit_source'),
            f"(kind = 'provider' AND credit_source IN ({SOURCES})) OR (kind <> 'provider' AND credit_source IS NULL)")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_users_role'), f"role IN ({NEW_ROLES})")

    op.create_table(
        'credit_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('provider_org_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('provider_record_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('polarity', sa.String(length=8), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('occurred_on', sa.Date(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('payload_digest', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
        sa.CheckConstraint(f"source IN ({SOURCES})", name=op.f('ck_credit_records_source')),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f('ck_credit_records_kind')),
        sa.CheckConstraint("polarity IN ('positive', 'negative', 'neutral')", name=op.f('ck_credit_records_polarity')),
        sa.CheckConstraint("status IN ('active', 'objected', 'repaired', 'removed')",
                           name=op.f('ck_credit_records_status')),
        sa.CheckConstraint('ended_on IS NULL OR ended_on >= occurred_on',
                           name=op.f('ck_credit_records_ended_after_occurred')),
        sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_credit_records_amount_not_negative')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_credit_records_enterprise_id_enterprises')),
        sa.ForeignKeyConstraint(['provider_org_id'], ['organisations.id'],
                                name=op.f('fk_credit_records_provider_org_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_records')),
        sa.UniqueConstraint('provider_org_id', 'provider_record_id',
                            name=op.f('uq_credit_records_provider_org_id_provider_record_id')),
    )
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.create_index('ix_credit_records_enterprise_source', ['enterprise_id', 'source'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_records_provider_org_id'), ['provider_org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_records_provider_org_id'))
        batch_op.drop_index('ix_credit_records_enterprise_source')
    op.drop_table('credit_records')
    providers = op.get_bind().scalar(sa.text("SELECT count(*) FROM organisations WHERE kind = 'provider'"))
    if providers:  # their users, tokens and audit events refer to them: deactivate, do not delete
        raise RuntimeError(f"{providers} data provider organisations exist: the schema cannot go back "
                           "to a version without them")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_users_role'), f"role IN ({OLD_ROLES})")
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_organisations_credit_source'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_organisations_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_organisations_kind'), f"kind IN ({OLD_KINDS})")
        batch_op.drop_column('credit_source')
