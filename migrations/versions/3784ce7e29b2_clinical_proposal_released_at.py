"""clinical: when the front desk let a proposal go (a released proposal never books)

Revision ID: 3784ce7e29b2
Revises: 32aea2306fa0
Create Date: 2026-12-04 19:00:00

"""
from alembic import op
import sqlalchemy as sa

import careplan.db


# revision identifiers, used by Alembic.
revision = '3784ce7e29b2'
down_revision = '32aea2306fa0'
branch_labels = None
depends_on = None


def upgrade():
    # A plain added column: no table rebuild on SQLite, so the held slots that cascade from proposals stay.
    op.add_column('proposals', sa.Column('released_at', careplan.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    # SQLite (3.35 and later) drops a column in place, like PostgreSQL.
    op.drop_column('proposals', 'released_at')
