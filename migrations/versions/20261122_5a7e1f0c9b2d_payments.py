"""payments: fees (guarantee, service) paid through Stripe or a confirmed bank transfer, and the
Stripe event ids already handled

Revision ID: 5a7e1f0c9b2d
Revises: 3843ba142cd9
Create Date: 2026-11-22

stripe_events.event_id is unique: the webhook inserts it in the same transaction as the event's
effect, so a redelivered event is a no-op. One open fee per request and purpose (partial index).
"""
import sqlalchemy as sa
from alembic import op

revision = "5a7e1f0c9b2d"
down_revision = "3843ba142cd9"
branch_labels = None
depends_on = None

STATUSES = ("pending", "processing", "succeeded", "refunded", "failed", "cancelled")
OPEN_STATUSES = ("pending", "processing", "failed", "succeeded")


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade():
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("payee_org_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_message", sa.String(length=500), nullable=True),
        sa.Column("offline_reference", sa.String(length=64), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(f"status IN ({_in(STATUSES)})", name=op.f("ck_payments_status")),
        sa.CheckConstraint("purpose IN ('guarantee_fee', 'service_fee')", name=op.f("ck_payments_purpose")),
        sa.CheckConstraint("method IN ('stripe', 'offline')", name=op.f("ck_payments_method")),
        sa.CheckConstraint("currency = 'cny'", name=op.f("ck_payments_currency")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint("status <> 'succeeded' OR paid_at IS NOT NULL",
                           name=op.f("ck_payments_succeeded_with_paid_at")),
        sa.CheckConstraint("status <> 'refunded' OR refunded_at IS NOT NULL",
                           name=op.f("ck_payments_refunded_with_refunded_at")),
        sa.CheckConstraint("method = 'stripe' OR (stripe_payment_intent_id IS NULL AND status <> 'processing')",
                           name=op.f("ck_payments_stripe_fields")),
        sa.CheckConstraint("method = 'offline' OR confirmed_by_id IS NULL", name=op.f("ck_payments_offline_fields")),
        sa.CheckConstraint("(confirmed_by_id IS NULL) = (confirmed_at IS NULL) "
                           "AND (confirmed_by_id IS NULL) = (offline_reference IS NULL)",
                           name=op.f("ck_payments_confirmed_together")),
        sa.ForeignKeyConstraint(["request_id"], ["financing_requests.id"],
                                name=op.f("fk_payments_request_id_financing_requests")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_payments_enterprise_id_enterprises")),
        sa.ForeignKeyConstraint(["payee_org_id"], ["organisations.id"],
                                name=op.f("fk_payments_payee_org_id_organisations")),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["users.id"], name=op.f("fk_payments_confirmed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
        sa.UniqueConstraint("stripe_payment_intent_id", name=op.f("uq_payments_stripe_payment_intent_id")),
    )
    open_fee = sa.text(f"status IN ({_in(OPEN_STATUSES)})")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_payee_org_id"), ["payee_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_status"), ["status"], unique=False)
        batch_op.create_index("uq_payments_open_request_purpose", ["request_id", "purpose"], unique=True,
                              sqlite_where=open_fee, postgresql_where=open_fee)

    op.create_table(
        "stripe_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("event_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_stripe_events_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_stripe_events_event_id")),
    )
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stripe_events_payment_id"), ["payment_id"], unique=False)


def downgrade():
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stripe_events_payment_id"))
    op.drop_table("stripe_events")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("uq_payments_open_request_purpose")
        batch_op.drop_index(batch_op.f("ix_payments_status"))
        batch_op.drop_index(batch_op.f("ix_payments_request_id"))
        batch_op.drop_index(batch_op.f("ix_payments_payee_org_id"))
        batch_op.drop_index(batch_op.f("ix_payments_enterprise_id"))
    op.drop_table("payments")
