"""appointments by start time: the clinic calendar's day reads every clinician's appointments of a day

Revision ID: a4c8e1f2d9b7
Revises: f93933f794c0
Create Date: 2026-12-05 08:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a4c8e1f2d9b7'
down_revision = 'f93933f794c0'
branch_labels = None
depends_on = None


def upgrade():
    # (provider_id, starts_at) serves one clinician's calendar; the clinic's whole day (the calendar grid)
    # ranges over starts_at alone and scanned the table without this one.
    op.create_index("ix_appointments_starts_at", "appointments", ["starts_at"], unique=False)


def downgrade():
    op.drop_index("ix_appointments_starts_at", table_name="appointments")
