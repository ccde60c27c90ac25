"""task outbox: the intent to run a Celery task, written in the transaction that needs it

Revision ID: c12a00000003
Revises: c12a00000002
Create Date: 2026-12-06
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "c12a00000003"
down_revision = "c12a00000002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "task_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("send_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_outbox")),
    )
    op.create_index(op.f("ix_task_outbox_key"), "task_outbox", ["key"], unique=False)
    op.create_index(op.f("ix_task_outbox_sent_at"), "task_outbox", ["sent_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_task_outbox_sent_at"), table_name="task_outbox")
    op.drop_index(op.f("ix_task_outbox_key"), table_name="task_outbox")
    op.drop_table("task_outbox")
