"""statement warnings: what the importer noticed but did not refuse (a masked balance column,
rows it skipped as footers), kept with the statement so its page can show them

Revision ID: c11a00000003
Revises: c11a00000002
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "c11a00000003"
down_revision = "c11a00000002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("statement_files") as batch:
        batch.add_column(sa.Column("parse_warnings", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("statement_files") as batch:
        batch.drop_column("parse_warnings")
