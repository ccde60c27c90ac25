"""account security: ID numbers and TOTP secrets encrypted at rest (existing rows encrypted with
the configured FLASK_ENCRYPTION_KEY); users get email_confirmed_at (self-registration waits for
its email link; existing users count as confirmed) and disabled_at (an admin's disable)

Revision ID: c12a00000001
Revises: c11a00000003
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "c12a00000001"
down_revision = "c11a00000003"
branch_labels = None
depends_on = None

# (table, column, its plain type before this revision)
ENCRYPTED = (("enterprises", "legal_rep_id_number", sa.String(18)), ("users", "totp_secret", sa.String(64)))


def _rewrite(table: str, column: str, transform) -> None:
    """Apply `transform` to every non-null value of table.column (runs in the app context that
    `flask db upgrade` provides, so the configured key is at hand)."""
    connection = op.get_bind()
    rows = connection.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
    for row_id, value in rows:
        new = transform(value)
        if new != value:
            connection.execute(sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                               {"value": new, "id": row_id})


def upgrade():
    from marketplace import crypto

    for table, column, plain in ENCRYPTED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=plain, type_=sa.Text())
        _rewrite(table, column, lambda v: v if crypto.is_encrypted(v) else crypto.encrypt(v))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET email_confirmed_at = created_at")


def downgrade():
    from marketplace import crypto

    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
        batch.drop_column("email_confirmed_at")
    for table, column, plain in ENCRYPTED:
        _rewrite(table, column, lambda v: crypto.decrypt(v) if crypto.is_encrypted(v) else v)
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.Text(), type_=plain)
