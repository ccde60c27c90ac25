"""products fit the debtor: debtor kinds and evidence a product requires

A product version may name the kinds of debtor it accepts (keys of
workflows.identifiers.DEBTOR_KINDS); [] keeps the type's default (政采贷: public bodies only).
What a type implies (factoring: debtor confirmation; order and contract loans: contract numbers)
is a rule of workflows.matching and needs no column.

Revision ID: c11a00000002
Revises: c11a00000001
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "c11a00000002"
down_revision = "c11a00000001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("product_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("debtor_kinds", sa.JSON(), server_default="[]", nullable=False))


def downgrade():
    with op.batch_alter_table("product_versions", schema=None) as batch_op:
        batch_op.drop_column("debtor_kinds")
