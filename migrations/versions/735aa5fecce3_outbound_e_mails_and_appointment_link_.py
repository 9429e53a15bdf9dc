"""outbound e-mails and appointment link uses: the one queue every e-mail to a patient goes through
(reminders per appointment and offset, booking confirmations, cancellation and reschedule notices), with
its lease columns, and the record of used confirm/cancel links

Revision ID: 735aa5fecce3
Revises: 723d007130fc
Create Date: 2026-11-21 10:54:06.845913

"""
from alembic import op
import sqlalchemy as sa

import careplan.db


# revision identifiers, used by Alembic.
revision = '735aa5fecce3'
down_revision = '723d007130fc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appointment_link_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('used_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('confirm', 'cancel')", name=op.f('ck_appointment_link_uses_known_action')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_appointment_link_uses_appointment_id_appointments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_link_uses')),
    sa.UniqueConstraint('appointment_id', 'action', 'sequence', name=op.f('uq_appointment_link_uses_appointment_id_action_sequence'))
    )
    with op.batch_alter_table('appointment_link_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_link_uses_appointment_id'), ['appointment_id'], unique=False)

    op.create_table('outbound_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('offset_hours', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('due_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=120), nullable=True),
    sa.Column('lease_expires_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('sent_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('reminder', 'booking-confirmation', 'cancellation', 'reschedule')", name=op.f('ck_outbound_emails_known_kind')),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'cancelled')", name=op.f('ck_outbound_emails_known_status')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_outbound_emails_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_outbound_emails_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_emails'))
    )
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_emails_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_emails_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_outbound_emails_status_due', ['status', 'due_at'], unique=False)



def downgrade():
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_emails_status_due')
        batch_op.drop_index(batch_op.f('ix_outbound_emails_patient_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_emails_appointment_id'))

    op.drop_table('outbound_emails')
    with op.batch_alter_table('appointment_link_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_link_uses_appointment_id'))

    op.drop_table('appointment_link_uses')
