"""audit integrity and data rules

- audit_anchors: one row naming the chain's last event, its HMAC and the number of events,
  advanced by a database trigger on every audit insert (not by the application), so that
  removing the last rows, or all of them, no longer leaves a chain that verifies.
- audit_checkpoints: append-only, each row signed with the audit key by the application
  (every N events and by `flask audit checkpoint`).
- offers: an offer that is out (made, accepted, closed, expired) names its approver; above the
  four-eyes amount that approver is not its maker.
- receivables: one debtor's invoice number is registered once across all enterprises.
- consents: the purposes the consent covers (financing_review, guarantee_review, post_loan).

Revision ID: c12a00000002
Revises: c12a00000001
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "c12a00000002"
down_revision = "c12a00000001"
branch_labels = None
depends_on = None

OLD_APPROVED = "status = 'pending_approval' OR status = 'withdrawn' OR approved_at IS NOT NULL"
NEW_APPROVED = ("status IN ('pending_approval', 'withdrawn') OR "
                "(approved_at IS NOT NULL AND approved_by_id IS NOT NULL)")
OLD_FOUR_EYES = "NOT four_eyes OR approved_by_id IS NULL OR approved_by_id <> made_by_id"
NEW_FOUR_EYES = ("NOT four_eyes OR (approved_by_id IS NULL AND status IN ('pending_approval', 'withdrawn')) "
                 "OR approved_by_id <> made_by_id")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("last_hmac", sa.String(length=64), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_anchors_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("last_hmac", sa.String(length=64), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_index(op.f("ix_audit_checkpoints_last_event_id"), "audit_checkpoints", ["last_event_id"])
    # The anchor starts where the chain stands now.
    op.execute("""
        INSERT INTO audit_anchors (id, last_event_id, last_hmac, events)
        SELECT 1, COALESCE(MAX(id), 0),
               COALESCE((SELECT hmac FROM audit_events ORDER BY id DESC LIMIT 1), REPEAT('0', 64)),
               COUNT(*)
        FROM audit_events""" if _postgresql() else """
        INSERT INTO audit_anchors (id, last_event_id, last_hmac, events)
        SELECT 1, COALESCE(MAX(id), 0),
               COALESCE((SELECT hmac FROM audit_events ORDER BY id DESC LIMIT 1),
                        '0000000000000000000000000000000000000000000000000000000000000000'),
               COUNT(*)
        FROM audit_events""")
    if _postgresql():
        # SECURITY DEFINER: runs as the owner, so an application role that may only SELECT the
        # anchor still advances it by inserting an event, and cannot set it any other way.
        op.execute("""
            CREATE FUNCTION audit_anchor_advance() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            BEGIN
                UPDATE audit_anchors SET last_event_id = NEW.id, last_hmac = NEW.hmac, events = events + 1
                WHERE id = 1;
                RETURN NEW;
            END; $$""")
        op.execute("""CREATE TRIGGER audit_events_anchor AFTER INSERT ON audit_events
                      FOR EACH ROW EXECUTE FUNCTION audit_anchor_advance()""")
        op.execute("""CREATE TRIGGER audit_anchors_no_remove BEFORE DELETE ON audit_anchors
                      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""")
        op.execute("""CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""")
        op.execute("""CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
                      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""")
        op.execute("""CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""")
    else:
        op.execute("""CREATE TRIGGER audit_events_anchor AFTER INSERT ON audit_events BEGIN
                      UPDATE audit_anchors SET last_event_id = NEW.id, last_hmac = NEW.hmac, events = events + 1
                      WHERE id = 1; END""")
        op.execute("""CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors
                      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""")
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER audit_checkpoints_no_{verb.lower()} BEFORE {verb} ON audit_checkpoints
                           BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""")

    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_offers_approved_when_made"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_offers_four_eyes"), type_="check")
        batch_op.create_check_constraint("approved_when_made", NEW_APPROVED)
        batch_op.create_check_constraint("four_eyes", NEW_FOUR_EYES)

    with op.batch_alter_table("receivables", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_receivables_enterprise_id_debtor_uscc_invoice_no"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_receivables_debtor_uscc_invoice_no"),
                                          ["debtor_uscc", "invoice_no"])

    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purposes", sa.JSON(), nullable=True))
    # Existing consents: post-loan only when their text says so, else the review the grantee does
    # and the monitoring after it (what consents.default_purposes grants).
    purposes = """CASE
            WHEN purpose LIKE '%贷后%' THEN '["post_loan"]'
            WHEN (SELECT kind FROM organisations WHERE organisations.id = consents.grantee_org_id) = 'guarantor'
                THEN '["guarantee_review", "post_loan"]'
            ELSE '["financing_review", "post_loan"]' END"""
    op.execute(f"UPDATE consents SET purposes = CAST({purposes} AS JSON)" if _postgresql()
               else f"UPDATE consents SET purposes = {purposes}")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.alter_column("purposes", existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_column("purposes")

    with op.batch_alter_table("receivables", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_receivables_debtor_uscc_invoice_no"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_receivables_enterprise_id_debtor_uscc_invoice_no"),
                                          ["enterprise_id", "debtor_uscc", "invoice_no"])

    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_offers_four_eyes"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_offers_approved_when_made"), type_="check")
        batch_op.create_check_constraint("four_eyes", OLD_FOUR_EYES)
        batch_op.create_check_constraint("approved_when_made", OLD_APPROVED)

    if _postgresql():
        op.execute("DROP TRIGGER audit_events_anchor ON audit_events")
        op.execute("DROP FUNCTION audit_anchor_advance()")
    else:
        op.execute("DROP TRIGGER audit_events_anchor")
    op.drop_index(op.f("ix_audit_checkpoints_last_event_id"), table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_anchors")
