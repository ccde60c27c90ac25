"""red/white/yellow lists and the monthly white-list push (issue 14, items 4-5)

Revision ID: c15a00000004
Revises: c15a00000003
Create Date: 2026-12-06 23:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c15a00000004'
down_revision = 'c15a00000003'
branch_labels = None
depends_on = None

LIST_KINDS = "'red', 'white', 'yellow'"
DECISIONS = "'included', 'excluded'"


def upgrade():
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recommend_consent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('recommend_consent_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_enterprises_recommend_consent_by_id_users'), 'users',
                                    ['recommend_consent_by_id'], ['id'])

    op.create_table(
        'list_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('evaluation_date', sa.Date(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('computed_by_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.String(length=16), server_default='proposed', nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.CheckConstraint("state IN ('proposed', 'confirmed', 'rejected', 'superseded')",
                           name=op.f('ck_list_proposals_state')),
        sa.CheckConstraint("trigger IN ('yearly', 'on_demand')", name=op.f('ck_list_proposals_trigger')),
        sa.CheckConstraint("(state = 'confirmed') = (confirmed_at IS NOT NULL)",
                           name=op.f('ck_list_proposals_confirmed_with_time')),
        sa.ForeignKeyConstraint(['computed_by_id'], ['users.id'], name=op.f('fk_list_proposals_computed_by_id_users')),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'],
                                name=op.f('fk_list_proposals_confirmed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_list_proposals')),
    )
    with op.batch_alter_table('list_proposals', schema=None) as batch_op:
        batch_op.create_index('ix_list_proposals_region_year', ['region_code', 'year'], unique=False)
        batch_op.create_index('uq_list_proposals_yearly', ['region_code', 'year'], unique=True,
                              postgresql_where=sa.text("trigger = 'yearly'"),
                              sqlite_where=sa.text("trigger = 'yearly'"))

    op.create_table(
        'list_memberships',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('list_kind', sa.String(length=8), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('reason_zh', sa.String(length=500), nullable=False),
        sa.Column('reason_en', sa.String(length=500), nullable=False),
        sa.Column('decision', sa.String(length=16), server_default='included', nullable=False),
        sa.Column('decision_reason', sa.String(length=500), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"list_kind IN ({LIST_KINDS})", name=op.f('ck_list_memberships_list_kind')),
        sa.CheckConstraint(f"decision IN ({DECISIONS})", name=op.f('ck_list_memberships_decision')),
        sa.CheckConstraint("decision = 'included' OR decision_reason IS NOT NULL",
                           name=op.f('ck_list_memberships_excluded_with_reason')),
        sa.ForeignKeyConstraint(['proposal_id'], ['list_proposals.id'],
                                name=op.f('fk_list_memberships_proposal_id_list_proposals')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_list_memberships_enterprise_id_enterprises')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_list_memberships_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_list_memberships')),
        sa.UniqueConstraint('proposal_id', 'enterprise_id', name=op.f('uq_list_memberships_proposal_id_enterprise_id')),
    )
    with op.batch_alter_table('list_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_memberships_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table(
        'whitelist_pushes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('state', sa.String(length=16), server_default='proposed', nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('proposed', 'confirmed')", name=op.f('ck_whitelist_pushes_state')),
        sa.CheckConstraint("(state = 'confirmed') = (confirmed_at IS NOT NULL)",
                           name=op.f('ck_whitelist_pushes_confirmed_with_time')),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'],
                                name=op.f('fk_whitelist_pushes_confirmed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_whitelist_pushes')),
        sa.UniqueConstraint('region_code', 'month', name=op.f('uq_whitelist_pushes_region_code_month')),
    )

    op.create_table(
        'whitelist_push_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('push_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('grade', sa.String(length=1), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('reason_zh', sa.String(length=500), nullable=False),
        sa.Column('reason_en', sa.String(length=500), nullable=False),
        sa.Column('decision', sa.String(length=16), server_default='included', nullable=False),
        sa.Column('decision_reason', sa.String(length=500), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("grade IN ('A', 'B')", name=op.f('ck_whitelist_push_entries_grade')),
        sa.CheckConstraint(f"decision IN ({DECISIONS})", name=op.f('ck_whitelist_push_entries_decision')),
        sa.CheckConstraint("decision = 'included' OR decision_reason IS NOT NULL",
                           name=op.f('ck_whitelist_push_entries_excluded_with_reason')),
        sa.ForeignKeyConstraint(['push_id'], ['whitelist_pushes.id'],
                                name=op.f('fk_whitelist_push_entries_push_id_whitelist_pushes')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_whitelist_push_entries_enterprise_id_enterprises')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_whitelist_push_entries_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_whitelist_push_entries')),
        sa.UniqueConstraint('push_id', 'enterprise_id', name=op.f('uq_whitelist_push_entries_push_id_enterprise_id')),
    )
    with op.batch_alter_table('whitelist_push_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whitelist_push_entries_enterprise_id'), ['enterprise_id'], unique=False)


def downgrade():
    with op.batch_alter_table('whitelist_push_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whitelist_push_entries_enterprise_id'))
    op.drop_table('whitelist_push_entries')
    op.drop_table('whitelist_pushes')
    with op.batch_alter_table('list_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_memberships_enterprise_id'))
    op.drop_table('list_memberships')
    with op.batch_alter_table('list_proposals', schema=None) as batch_op:
        batch_op.drop_index('uq_list_proposals_yearly', postgresql_where=sa.text("trigger = 'yearly'"),
                            sqlite_where=sa.text("trigger = 'yearly'"))
        batch_op.drop_index('ix_list_proposals_region_year')
    op.drop_table('list_proposals')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_enterprises_recommend_consent_by_id_users'), type_='foreignkey')
        batch_op.drop_column('recommend_consent_by_id')
        batch_op.drop_column('recommend_consent_at')
