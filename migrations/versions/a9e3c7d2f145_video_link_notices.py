"""video-link notices: the e-mail that tells a patient how to join a video session whose link came after booking

Revision ID: a9e3c7d2f145
Revises: 3e8b5d2a7c14
Create Date: 2026-12-06 20:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a9e3c7d2f145'
down_revision = '3e8b5d2a7c14'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('reminder', 'booking-confirmation', 'cancellation', 'reschedule', 'slot-offer', 'slot-gone')"
NEW_KINDS = ("kind IN ('reminder', 'booking-confirmation', 'cancellation', 'reschedule', 'slot-offer', 'slot-gone', "
             "'video-link')")


def _kinds(new: str) -> None:
    # SQLite rebuilds the table (batch mode) from its reflected definition, named CHECK constraints included.
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbound_emails_known_kind'), type_='check')
        batch_op.create_check_constraint('known_kind', new)


def upgrade():
    _kinds(NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM outbound_emails WHERE kind = 'video-link'")
    _kinds(OLD_KINDS)
