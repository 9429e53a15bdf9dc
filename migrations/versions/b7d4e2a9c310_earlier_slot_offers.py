"""earlier-slot offers: patients' requests, the offers a freed slot makes, and their two e-mail kinds

Revision ID: b7d4e2a9c310
Revises: 5e1f0c2b7a91
Create Date: 2026-12-05 05:50:00

"""
from alembic import op
import sqlalchemy as sa

import careplan.db


# revision identifiers, used by Alembic.
revision = 'b7d4e2a9c310'
down_revision = '5e1f0c2b7a91'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('reminder', 'booking-confirmation', 'cancellation', 'reschedule')"
NEW_KINDS = "kind IN ('reminder', 'booking-confirmation', 'cancellation', 'reschedule', 'slot-offer', 'slot-gone')"


def upgrade():
    op.create_table('earlier_slot_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'fulfilled', 'withdrawn')", name=op.f('ck_earlier_slot_requests_known_status')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_earlier_slot_requests_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_earlier_slot_requests_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earlier_slot_requests'))
    )
    with op.batch_alter_table('earlier_slot_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_earlier_slot_requests_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_earlier_slot_requests_patient_id'), ['patient_id'], unique=False)

    op.create_table('slot_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('freed_appointment_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expires_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('offered', 'accepted', 'gone')", name=op.f('ck_slot_offers_known_status')),
    sa.ForeignKeyConstraint(['freed_appointment_id'], ['appointments.id'], name=op.f('fk_slot_offers_freed_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_slot_offers_provider_id_providers')),
    sa.ForeignKeyConstraint(['request_id'], ['earlier_slot_requests.id'], name=op.f('fk_slot_offers_request_id_earlier_slot_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot_offers'))
    )
    with op.batch_alter_table('slot_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slot_offers_request_id'), ['request_id'], unique=False)
        batch_op.create_index('uq_slot_offers_one_taker', ['freed_appointment_id'], unique=True,
                              sqlite_where=sa.text("status = 'accepted'"),
                              postgresql_where=sa.text("status = 'accepted'"))

    _kinds(OLD_KINDS, NEW_KINDS)


def _kinds(old: str, new: str) -> None:
    # SQLite rebuilds the table (batch mode) from its reflected definition, named CHECK constraints included.
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbound_emails_known_kind'), type_='check')
        batch_op.create_check_constraint('known_kind', new)


def downgrade():
    op.execute("DELETE FROM outbound_emails WHERE kind IN ('slot-offer', 'slot-gone')")
    _kinds(NEW_KINDS, OLD_KINDS)
    with op.batch_alter_table('slot_offers', schema=None) as batch_op:
        batch_op.drop_index('uq_slot_offers_one_taker', sqlite_where=sa.text("status = 'accepted'"),
                            postgresql_where=sa.text("status = 'accepted'"))
        batch_op.drop_index(batch_op.f('ix_slot_offers_request_id'))
    op.drop_table('slot_offers')
    with op.batch_alter_table('earlier_slot_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_earlier_slot_requests_patient_id'))
        batch_op.drop_index(batch_op.f('ix_earlier_slot_requests_appointment_id'))
    op.drop_table('earlier_slot_requests')
