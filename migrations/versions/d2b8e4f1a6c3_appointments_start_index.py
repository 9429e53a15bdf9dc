"""scale: an index on the appointments' start, for the clinic's day and week across every clinician

The desk's day page, the API's day lists, the FHIR Slot and Appointment searches and the calendar read the
appointments of one day for all clinicians: without this index each read the whole table. Their queries
also carry a lower bound on starts_at (careplan.scheduling.models.overlapping), so this index, and the
provider/patient ones, are read from that day on, not from the first appointment ever booked.

Revision ID: d2b8e4f1a6c3
Revises: f93933f794c0
Create Date: 2026-12-05 08:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd2b8e4f1a6c3'
down_revision = 'f93933f794c0'
branch_labels = None
depends_on = None


def upgrade():
    # CREATE INDEX alone: a batch copy of the table on SQLite would drop its overlap triggers.
    op.create_index('ix_appointments_starts_at', 'appointments', ['starts_at'], unique=False)


def downgrade():
    op.drop_index('ix_appointments_starts_at', table_name='appointments')
