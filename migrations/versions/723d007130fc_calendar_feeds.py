"""calendar feeds: private iCalendar URLs of providers and patients

One row per owner (a provider or a patient), holding only the SHA-256 of the URL's token.

Revision ID: 723d007130fc
Revises: ef51edfac9dd
Create Date: 2026-11-21 10:57:56.651889

"""
from alembic import op
import sqlalchemy as sa

import careplan.db


# revision identifiers, used by Alembic.
revision = '723d007130fc'
down_revision = 'ef51edfac9dd'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(provider_id IS NULL) <> (patient_id IS NULL)', name=op.f('ck_calendar_feeds_one_owner')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_calendar_feeds_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_calendar_feeds_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds')),
    sa.UniqueConstraint('patient_id', name=op.f('uq_calendar_feeds_patient_id')),
    sa.UniqueConstraint('provider_id', name=op.f('uq_calendar_feeds_provider_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feeds_token_hash'))
    )


def downgrade():
    op.drop_table('calendar_feeds')
