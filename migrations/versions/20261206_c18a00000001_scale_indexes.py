"""indexes for province scale (issue 15, item 4): region prefixes and the audit log's filter

Revision ID: c18a00000001
Revises: c17a00000001
Create Date: 2026-12-06 23:40:00

- enterprises.region_code with varchar_pattern_ops: the bureau's pages filter enterprises by a
  division-code prefix (`region_code LIKE '3205%'`); the database's collation is C.UTF-8, under
  which a plain b-tree cannot serve LIKE as a range, so every bureau statement read all
  enterprises (Seq Scan, or the whole primary key with a filter). The plain index stays for
  equality and ordering.
- audit_events.object_type: the audit log page's filter lists the distinct object types; without
  an index that is a sequential read of the whole (append-only, ever-growing) log on every page.

Both are built CONCURRENTLY on PostgreSQL (no lock on writes while a large table is indexed);
outside a transaction, as CREATE INDEX CONCURRENTLY requires.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c18a00000001'
down_revision = 'c17a00000001'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_enterprises_region_code_prefix", "enterprises", ["region_code"], {"region_code": "varchar_pattern_ops"}),
    ("ix_audit_events_object_type", "audit_events", ["object_type"], None),
)


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, columns, ops in INDEXES:
        if postgresql:
            with op.get_context().autocommit_block():
                op.create_index(name, table, columns, postgresql_ops=ops or {}, postgresql_concurrently=True,
                                if_not_exists=True)
        else:
            op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns, _ops in reversed(INDEXES):
        op.drop_index(name, table_name=table)
