"""calendar: check-in time of an appointment

The front desk marks a patient arrived (checked in) without changing the appointment's status: the
appointment is still to be completed or marked a no-show by the clinician.

Revision ID: c4a1e0d2b7f3
Revises: c4a9d2e7f013
Create Date: 2026-12-05 05:20:00

"""
from alembic import op
import sqlalchemy as sa

import careplan.db


# revision identifiers, used by Alembic.
revision = 'c4a1e0d2b7f3'
down_revision = 'c4a9d2e7f013'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: a batch copy of the table on SQLite would drop its overlap triggers.
    op.add_column('appointments', sa.Column('arrived_at', careplan.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('appointments', 'arrived_at')
