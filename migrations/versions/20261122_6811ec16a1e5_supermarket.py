"""supermarket: versioned products, daily product statistics, request targets

pg_trgm backs the Chinese product search on PostgreSQL. products.current_version_id and
product_versions.product_id reference each other, so that foreign key is added last.

Revision ID: 6811ec16a1e5
Revises: a1d17e0c0de1
Create Date: 2026-11-22 03:44:15.908169

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '6811ec16a1e5'
down_revision = 'a1d17e0c0de1'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('draft', 'published', 'retired')", name=op.f('ck_products_state')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_products_created_by_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['organisations.id'], name=op.f('fk_products_institution_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_state'), ['state'], unique=False)

    op.create_table('product_stats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('matches', sa.Integer(), nullable=False),
    sa.Column('applications', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_stats_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_stats')),
    sa.UniqueConstraint('product_id', 'day', name=op.f('uq_product_stats_product_id_day'))
    )
    with op.batch_alter_table('product_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_stats_product_id'), ['product_id'], unique=False)

    op.create_table('product_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('product_type', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('amount_min', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('amount_max', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('term_min_days', sa.Integer(), nullable=False),
    sa.Column('term_max_days', sa.Integer(), nullable=False),
    sa.Column('rate_min', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('rate_max', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('min_grade', sa.String(length=1), nullable=True),
    sa.Column('accepts_ungraded', sa.Boolean(), nullable=False),
    sa.Column('industries', sa.JSON(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('requires_guarantee', sa.Boolean(), nullable=False),
    sa.Column('requires_debtor_confirmation', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("min_grade IS NULL OR min_grade IN ('A', 'B', 'C', 'D')", name=op.f('ck_product_versions_min_grade')),
    sa.CheckConstraint('amount_min > 0 AND amount_min <= amount_max', name=op.f('ck_product_versions_amount_range')),
    sa.CheckConstraint('rate_min > 0 AND rate_min <= rate_max AND rate_max <= 24', name=op.f('ck_product_versions_rate_range')),
    sa.CheckConstraint('term_min_days > 0 AND term_min_days <= term_max_days', name=op.f('ck_product_versions_term_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_product_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_versions_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_versions')),
    sa.UniqueConstraint('product_id', 'number', name=op.f('uq_product_versions_product_id_number'))
    )
    with op.batch_alter_table('product_versions', schema=None) as batch_op:
        batch_op.create_index('ix_product_versions_description_trgm', ['description'], unique=False, postgresql_using='gin', postgresql_ops={'description': 'gin_trgm_ops'})
        batch_op.create_index('ix_product_versions_name_trgm', ['name'], unique=False, postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.create_index(batch_op.f('ix_product_versions_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_versions_product_type'), ['product_type'], unique=False)

    op.create_table('request_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('product_version_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('chosen_by', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("chosen_by IN ('enterprise', 'match')", name=op.f('ck_request_targets_chosen_by')),
    sa.CheckConstraint('rank BETWEEN 1 AND 3', name=op.f('ck_request_targets_rank')),
    sa.ForeignKeyConstraint(['institution_id'], ['organisations.id'], name=op.f('fk_request_targets_institution_id_organisations')),
    sa.ForeignKeyConstraint(['product_version_id'], ['product_versions.id'], name=op.f('fk_request_targets_product_version_id_product_versions')),
    sa.ForeignKeyConstraint(['request_id'], ['financing_requests.id'], name=op.f('fk_request_targets_request_id_financing_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_targets')),
    sa.UniqueConstraint('request_id', 'institution_id', name=op.f('uq_request_targets_request_id_institution_id'))
    )
    with op.batch_alter_table('request_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_targets_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_targets_product_version_id'), ['product_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_targets_request_id'), ['request_id'], unique=False)
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_products_current_version_id_product_versions', 'product_versions',
                                    ['current_version_id'], ['id'])


def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint('fk_products_current_version_id_product_versions', type_='foreignkey')
    with op.batch_alter_table('request_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_targets_request_id'))
        batch_op.drop_index(batch_op.f('ix_request_targets_product_version_id'))
        batch_op.drop_index(batch_op.f('ix_request_targets_institution_id'))

    op.drop_table('request_targets')
    with op.batch_alter_table('product_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_versions_product_type'))
        batch_op.drop_index(batch_op.f('ix_product_versions_product_id'))
        batch_op.drop_index('ix_product_versions_name_trgm', postgresql_using='gin', postgresql_ops={'name': 'gin_trgm_ops'})
        batch_op.drop_index('ix_product_versions_description_trgm', postgresql_using='gin', postgresql_ops={'description': 'gin_trgm_ops'})

    op.drop_table('product_versions')
    with op.batch_alter_table('product_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_stats_product_id'))

    op.drop_table('product_stats')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_state'))
        batch_op.drop_index(batch_op.f('ix_products_institution_id'))

    op.drop_table('products')
