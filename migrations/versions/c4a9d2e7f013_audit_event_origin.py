"""audit_events.origin: where the caller came from (web, api, worker, cli), as careplan.caller.Caller says

Revision ID: c4a9d2e7f013
Revises: 8e3f1a6c2b47
Create Date: 2026-12-05 06:35:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a9d2e7f013'
down_revision = '8e3f1a6c2b47'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (not a batch copy of the table), so the append-only triggers stay as they are; rows
    # written before it keep an empty origin.
    op.add_column("audit_events", sa.Column("origin", sa.String(length=10), server_default="", nullable=False))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("audit_events", "origin")
        return
    # SQLite drops a column by copying the table, which loses its triggers: put them back.
    from careplan.audit.append_only import SQLITE_TRIGGERS

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("origin")
    for name, statement in SQLITE_TRIGGERS.items():
        if name.startswith("audit_events_"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(statement)
