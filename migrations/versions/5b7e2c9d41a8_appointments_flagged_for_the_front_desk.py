"""appointments flagged for the front desk: a change of hours or time off left them outside

Revision ID: 5b7e2c9d41a8
Revises: 9c1702f683a5
Create Date: 2026-12-05 05:30:00

"""
from alembic import op
import sqlalchemy as sa

import careplan.db


# revision identifiers, used by Alembic.
revision = '5b7e2c9d41a8'
down_revision = '9c1702f683a5'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ADD COLUMN on both backends: a batch rebuild of appointments would drop the
    # SQLite triggers against overlaps.
    op.add_column("appointments", sa.Column("flag_reason", sa.String(length=300), nullable=True))
    op.add_column("appointments", sa.Column("flagged_at", careplan.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_appointments_flagged_at", "appointments", ["flagged_at"], unique=False)


def downgrade():
    op.drop_index("ix_appointments_flagged_at", table_name="appointments")
    # SQLite 3.35+ drops a column in place (a batch rebuild would lose the overlap triggers).
    op.drop_column("appointments", "flagged_at")
    op.drop_column("appointments", "flag_reason")
