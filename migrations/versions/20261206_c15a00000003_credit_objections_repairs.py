"""objections (异议) and credit repair (信用修复) (issue 14, items 6-7): credit_objections with a
20-calendar-day clock and at most one open objection per record, credit_repairs with at most one
undecided application per record, and credit_evidence, the documents filed with either.

Revision ID: c15a00000003
Revises: c15a00000002
Create Date: 2026-12-06 23:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c15a00000003'
down_revision = 'c15a00000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_objections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('filed_by_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('filed_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('answering_org_id', sa.Integer(), nullable=True),
        sa.Column('reply', sa.Text(), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('corrections', sa.JSON(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('corrected', 'removed', 'cannot_confirm')",
                           name=op.f('ck_credit_objections_outcome')),
        sa.CheckConstraint('(outcome IS NULL) = (closed_at IS NULL)',
                           name=op.f('ck_credit_objections_closed_with_outcome')),
        sa.CheckConstraint('outcome IS NULL OR (answered_by_id IS NOT NULL AND answering_org_id IS NOT NULL '
                           'AND reply IS NOT NULL)', name=op.f('ck_credit_objections_answered_in_writing')),
        sa.CheckConstraint('due_on > filed_on', name=op.f('ck_credit_objections_due_after_filed')),
        sa.ForeignKeyConstraint(['record_id'], ['credit_records.id'],
                                name=op.f('fk_credit_objections_record_id_credit_records')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_credit_objections_enterprise_id_enterprises')),
        sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_credit_objections_filed_by_id_users')),
        sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'],
                                name=op.f('fk_credit_objections_answered_by_id_users')),
        sa.ForeignKeyConstraint(['answering_org_id'], ['organisations.id'],
                                name=op.f('fk_credit_objections_answering_org_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_objections')),
    )
    with op.batch_alter_table('credit_objections', schema=None) as batch_op:
        batch_op.create_index('uq_credit_objections_open_record', ['record_id'], unique=True,
                              sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.create_index('ix_credit_objections_enterprise_id', ['enterprise_id'], unique=False)
        batch_op.create_index('ix_credit_objections_record_id', ['record_id'], unique=False)

    op.create_table(
        'credit_repairs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('applicant_id', sa.Integer(), nullable=False),
        sa.Column('commitment', sa.Text(), nullable=False),
        sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=True),
        sa.Column('decision', sa.String(length=16), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("decision IS NULL OR decision IN ('approved', 'rejected')",
                           name=op.f('ck_credit_repairs_decision')),
        sa.CheckConstraint('(decision IS NULL) = (decided_at IS NULL) AND (decision IS NULL) = (reviewer_id IS NULL)',
                           name=op.f('ck_credit_repairs_decided_together')),
        sa.ForeignKeyConstraint(['record_id'], ['credit_records.id'],
                                name=op.f('fk_credit_repairs_record_id_credit_records')),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_credit_repairs_enterprise_id_enterprises')),
        sa.ForeignKeyConstraint(['applicant_id'], ['users.id'], name=op.f('fk_credit_repairs_applicant_id_users')),
        sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_credit_repairs_reviewer_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_repairs')),
    )
    with op.batch_alter_table('credit_repairs', schema=None) as batch_op:
        batch_op.create_index('uq_credit_repairs_open_record', ['record_id'], unique=True,
                              sqlite_where=sa.text('decided_at IS NULL'),
                              postgresql_where=sa.text('decided_at IS NULL'))
        batch_op.create_index('ix_credit_repairs_enterprise_id', ['enterprise_id'], unique=False)
        batch_op.create_index('ix_credit_repairs_record_id', ['record_id'], unique=False)

    op.create_table(
        'credit_evidence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('objection_id', sa.Integer(), nullable=True),
        sa.Column('repair_id', sa.Integer(), nullable=True),
        sa.Column('original_name', sa.String(length=255), nullable=False),
        sa.Column('stored_name', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('(objection_id IS NULL) <> (repair_id IS NULL)', name=op.f('ck_credit_evidence_one_owner')),
        sa.ForeignKeyConstraint(['objection_id'], ['credit_objections.id'],
                                name=op.f('fk_credit_evidence_objection_id_credit_objections')),
        sa.ForeignKeyConstraint(['repair_id'], ['credit_repairs.id'],
                                name=op.f('fk_credit_evidence_repair_id_credit_repairs')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_credit_evidence_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_evidence')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_credit_evidence_stored_name')),
    )
    with op.batch_alter_table('credit_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_evidence_objection_id'), ['objection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_evidence_repair_id'), ['repair_id'], unique=False)


def downgrade():
    with op.batch_alter_table('credit_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_evidence_repair_id'))
        batch_op.drop_index(batch_op.f('ix_credit_evidence_objection_id'))
    op.drop_table('credit_evidence')
    with op.batch_alter_table('credit_repairs', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_repairs_record_id')
        batch_op.drop_index('ix_credit_repairs_enterprise_id')
        batch_op.drop_index('uq_credit_repairs_open_record', sqlite_where=sa.text('decided_at IS NULL'),
                            postgresql_where=sa.text('decided_at IS NULL'))
    op.drop_table('credit_repairs')
    with op.batch_alter_table('credit_objections', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_objections_record_id')
        batch_op.drop_index('ix_credit_objections_enterprise_id')
        batch_op.drop_index('uq_credit_objections_open_record', sqlite_where=sa.text('closed_at IS NULL'),
                            postgresql_where=sa.text('closed_at IS NULL'))
    op.drop_table('credit_objections')
