"""concurrency: a version counter on patients and providers (care plans have theirs), for optimistic locking

Revision ID: 9c1702f683a5
Revises: 3784ce7e29b2
Create Date: 2026-12-04 18:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c1702f683a5'
down_revision = '3784ce7e29b2'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows start at version 1, as new ones do.
    for table in ("patients", "providers"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    for table in ("providers", "patients"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
