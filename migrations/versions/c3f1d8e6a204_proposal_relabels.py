"""proposals: booked appointments a re-plan keeps in place under another plan week or phase

Revision ID: c3f1d8e6a204
Revises: b7e4c2a9d513
Create Date: 2026-12-05 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f1d8e6a204'
down_revision = 'b7e4c2a9d513'
branch_labels = None
depends_on = None


def upgrade():
    # A plain added column (null for the proposals made before it): no rebuild of proposals on SQLite,
    # so the held slots that cascade from them stay.
    op.add_column('proposals', sa.Column('relabels', sa.JSON(), nullable=True))


def downgrade():
    op.drop_column('proposals', 'relabels')
