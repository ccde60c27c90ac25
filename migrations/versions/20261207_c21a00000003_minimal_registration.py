"""issue 19 - registration asks only what it must

The legal representative, the industry and the contact phone are completed after registration,
before the enterprise's first financing request: their columns may be empty until then.

Revision ID: c21a00000003
Revises: c21a00000002
Create Date: 2026-12-07 01:30:00
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c21a00000003'
down_revision = 'c21a00000002'
branch_labels = None
depends_on = None

COMPLETED_LATER = (("legal_rep_name", sa.String(length=50)), ("legal_rep_id_number", sa.Text()),
                   ("industry_code", sa.String(length=4)), ("contact_phone", sa.String(length=20)))


def upgrade():
    with op.batch_alter_table("enterprises") as batch_op:
        for column, type_ in COMPLETED_LATER:
            batch_op.alter_column(column, existing_type=type_, nullable=True)


def downgrade():
    # fails (NOT NULL) while an enterprise has not completed its profile: complete or remove it first
    with op.batch_alter_table("enterprises") as batch_op:
        for column, type_ in COMPLETED_LATER:
            batch_op.alter_column(column, existing_type=type_, nullable=False)
