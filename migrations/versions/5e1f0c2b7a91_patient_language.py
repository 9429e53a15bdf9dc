"""patients speak English or French: a patient's language and the clinic's default

Revision ID: 5e1f0c2b7a91
Revises: c3f1d8e6a204
Create Date: 2026-12-05 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1f0c2b7a91'
down_revision = 'c3f1d8e6a204'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("patients", schema=None) as batch_op:
        # Empty: the clinic's default.
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))
    with op.batch_alter_table("clinic_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_language", sa.String(length=5), server_default="en", nullable=False))


def downgrade():
    with op.batch_alter_table("clinic_settings", schema=None) as batch_op:
        batch_op.drop_column("default_language")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("language")
