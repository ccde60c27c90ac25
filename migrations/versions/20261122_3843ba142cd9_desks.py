"""desks: claims (assignments), internal notes, information requests, offers, declines,
guarantees, loans with their schedules and repayments

Revision ID: 3843ba142cd9
Revises: 01bbc2b858c4
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "3843ba142cd9"
down_revision = "01bbc2b858c4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("financing_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("classification", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_financing_requests_classification"), ["classification"], unique=False)
    with op.batch_alter_table("request_targets", schema=None) as batch_op:
        batch_op.create_index("ix_request_targets_queue", ["institution_id", "routed_at", "id"], unique=False)
    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('touched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.CheckConstraint("end_reason IS NULL OR end_reason IN ('released', 'expired', 'decided', 'closed')", name=op.f('ck_assignments_end_reason')),
    sa.CheckConstraint('(ended_at IS NULL) = (end_reason IS NULL)', name=op.f('ck_assignments_ended_with_reason')),
    sa.ForeignKeyConstraint(['institution_id'], ['organisations.id'], name=op.f('fk_assignments_institution_id_organisations')),
    sa.ForeignKeyConstraint(['request_id'], ['financing_requests.id'], name=op.f('fk_assignments_request_id_financing_requests')),
    sa.ForeignKeyConstraint(['target_id'], ['request_targets.id'], name=op.f('fk_assignments_target_id_request_targets')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_target_id'), ['target_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_assignments_open_target', ['target_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    op.create_table('declines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_declines_decided_by_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['organisations.id'], name=op.f('fk_declines_institution_id_organisations')),
    sa.ForeignKeyConstraint(['request_id'], ['financing_requests.id'], name=op.f('fk_declines_request_id_financing_requests')),
    sa.ForeignKeyConstraint(['target_id'], ['request_targets.id'], name=op.f('fk_declines_target_id_request_targets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declines'))
    )
    with op.batch_alter_table('declines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declines_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_declines_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_declines_target_id'), ['target_id'], unique=False)

    op.create_table('guarantees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('coverage_ratio', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('fee_rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('guaranteed_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('fee', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('term_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('offered_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('letter_no', sa.String(length=32), nullable=True),
    sa.CheckConstraint("status <> 'issued' OR (letter_no IS NOT NULL AND issued_at IS NOT NULL)", name=op.f('ck_guarantees_issued_with_letter')),
    sa.CheckConstraint("status IN ('offered', 'accepted', 'issued', 'closed')", name=op.f('ck_guarantees_status')),
    sa.CheckConstraint('coverage_ratio > 0 AND coverage_ratio <= 100', name=op.f('ck_guarantees_coverage_range')),
    sa.CheckConstraint('fee > 0', name=op.f('ck_guarantees_fee_positive')),
    sa.CheckConstraint('fee_rate > 0 AND fee_rate <= 10', name=op.f('ck_guarantees_fee_rate_range')),
    sa.ForeignKeyConstraint(['institution_id'], ['organisations.id'], name=op.f('fk_guarantees_institution_id_organisations')),
    sa.ForeignKeyConstraint(['offered_by_id'], ['users.id'], name=op.f('fk_guarantees_offered_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['financing_requests.id'], name=op.f('fk_guarantees_request_id_financing_requests')),
    sa.ForeignKeyConstraint(['target_id'], ['request_targets.id'], name=op.f('fk_guarantees_target_id_request_targets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guarantees')),
    sa.UniqueConstraint('letter_no', name=op.f('uq_guarantees_letter_no'))
    )
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guarantees_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guarantees_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guarantees_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_guarantees_target_id'), ['target_id'], unique=False)
        batch_op.create_index('uq_guarantees_live_request', ['request_id'], unique=True, sqlite_where=sa.text("status <> 'closed'"), postgresql_where=sa.text("status <> 'closed'"))

    op.create_table('info_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(answered_at IS NULL) = (answer IS NULL)', name=op.f('ck_info_requests_answered_with_text')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_info_requests_answered_by_id_users')),
    sa.ForeignKeyConstraint(['asked_by_id'], ['users.id'], name=op.f('fk_info_requests_asked_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['financing_requests.id'], name=op.f('fk_info_requests_request_id_financing_requests')),
    sa.ForeignKeyConstraint(['target_id'], ['request_targets.id'], name=op.f('fk_info_requests_target_id_request_targets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_info_requests'))
    )
    with op.batch_alter_table('info_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_info_requests_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_info_requests_target_id'), ['target_id'], unique=False)

    op.create_table('internal_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_internal_notes_author_id_users')),
    sa.ForeignKeyConstraint(['target_id'], ['request_targets.id'], name=op.f('fk_internal_notes_target_id_request_targets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_internal_notes'))
    )
    with op.batch_alter_table('internal_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_internal_notes_target_id'), ['target_id'], unique=False)

    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('annual_rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('term_days', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('four_eyes', sa.Boolean(), nullable=False),
    sa.Column('made_by_id', sa.Integer(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status = 'pending_approval' OR status = 'withdrawn' OR approved_at IS NOT NULL", name=op.f('ck_offers_approved_when_made')),
    sa.CheckConstraint("status IN ('pending_approval', 'made', 'accepted', 'closed', 'expired', 'withdrawn')", name=op.f('ck_offers_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_offers_amount_positive')),
    sa.CheckConstraint('annual_rate > 0 AND annual_rate < 36', name=op.f('ck_offers_rate_range')),
    sa.CheckConstraint('NOT four_eyes OR approved_by_id IS NULL OR approved_by_id <> made_by_id', name=op.f('ck_offers_four_eyes')),
    sa.CheckConstraint('term_days > 0', name=op.f('ck_offers_term_positive')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_offers_approved_by_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['organisations.id'], name=op.f('fk_offers_institution_id_organisations')),
    sa.ForeignKeyConstraint(['made_by_id'], ['users.id'], name=op.f('fk_offers_made_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['financing_requests.id'], name=op.f('fk_offers_request_id_financing_requests')),
    sa.ForeignKeyConstraint(['target_id'], ['request_targets.id'], name=op.f('fk_offers_target_id_request_targets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_target_id'), ['target_id'], unique=False)

    op.create_table('info_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('info_request_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['info_request_id'], ['info_requests.id'], name=op.f('fk_info_attachments_info_request_id_info_requests')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_info_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_info_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_info_attachments_stored_name'))
    )
    with op.batch_alter_table('info_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_info_attachments_info_request_id'), ['info_request_id'], unique=False)

    op.create_table('loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('disbursed_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_loans_amount_positive')),
    sa.ForeignKeyConstraint(['institution_id'], ['organisations.id'], name=op.f('fk_loans_institution_id_organisations')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_loans_offer_id_offers')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_loans_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['financing_requests.id'], name=op.f('fk_loans_request_id_financing_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loans')),
    sa.UniqueConstraint('offer_id', name=op.f('uq_loans_offer_id')),
    sa.UniqueConstraint('request_id', name=op.f('uq_loans_request_id'))
    )
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loans_institution_id'), ['institution_id'], unique=False)

    op.create_table('instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('principal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('interest', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('overdue_flagged_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('principal >= 0 AND interest >= 0 AND principal + interest > 0', name=op.f('ck_instalments_amounts')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_instalments_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instalments')),
    sa.UniqueConstraint('loan_id', 'due_on', name=op.f('uq_instalments_loan_id_due_on'))
    )
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instalments_loan_id'), ['loan_id'], unique=False)

    op.create_table('repayments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_repayments_amount_positive')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_repayments_loan_id_loans')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_repayments_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayments'))
    )
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayments_loan_id'), ['loan_id'], unique=False)



def downgrade():
    with op.batch_alter_table("request_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_request_targets_queue")
    with op.batch_alter_table("financing_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_financing_requests_classification"))
        batch_op.drop_column("classification")
    with op.batch_alter_table('repayments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repayments_loan_id'))

    op.drop_table('repayments')
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instalments_loan_id'))

    op.drop_table('instalments')
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loans_institution_id'))

    op.drop_table('loans')
    with op.batch_alter_table('info_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_info_attachments_info_request_id'))

    op.drop_table('info_attachments')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_target_id'))
        batch_op.drop_index(batch_op.f('ix_offers_status'))
        batch_op.drop_index(batch_op.f('ix_offers_request_id'))
        batch_op.drop_index(batch_op.f('ix_offers_institution_id'))

    op.drop_table('offers')
    with op.batch_alter_table('internal_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_internal_notes_target_id'))

    op.drop_table('internal_notes')
    with op.batch_alter_table('info_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_info_requests_target_id'))
        batch_op.drop_index(batch_op.f('ix_info_requests_request_id'))

    op.drop_table('info_requests')
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.drop_index('uq_guarantees_live_request', sqlite_where=sa.text("status <> 'closed'"), postgresql_where=sa.text("status <> 'closed'"))
        batch_op.drop_index(batch_op.f('ix_guarantees_target_id'))
        batch_op.drop_index(batch_op.f('ix_guarantees_status'))
        batch_op.drop_index(batch_op.f('ix_guarantees_request_id'))
        batch_op.drop_index(batch_op.f('ix_guarantees_institution_id'))

    op.drop_table('guarantees')
    with op.batch_alter_table('declines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declines_target_id'))
        batch_op.drop_index(batch_op.f('ix_declines_request_id'))
        batch_op.drop_index(batch_op.f('ix_declines_institution_id'))

    op.drop_table('declines')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('uq_assignments_open_target', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_assignments_user_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_target_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_request_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_institution_id'))
        batch_op.drop_index(batch_op.f('ix_assignments_expires_at'))

    op.drop_table('assignments')
