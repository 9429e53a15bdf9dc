"""proposals and held slots

Revision ID: 32aea2306fa0
Revises: 0d9e50dabfa0
Create Date: 2026-11-21 11:44:38.755531

"""
from alembic import op
import sqlalchemy as sa

import careplan.db


# revision identifiers, used by Alembic.
revision = '32aea2306fa0'
down_revision = '0d9e50dabfa0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('booked_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('problem', sa.JSON(), nullable=False),
    sa.Column('solution', sa.JSON(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('solve_seconds', sa.Float(), nullable=False),
    sa.Column('unscheduled', sa.JSON(), nullable=False),
    sa.Column('cancellations', sa.JSON(), nullable=False),
    sa.Column('booked_appointment_ids', sa.JSON(), nullable=False),
    sa.CheckConstraint("kind IN ('plan', 'replan')", name=op.f('ck_proposals_known_kind')),
    sa.CheckConstraint("status IN ('live', 'booked', 'expired', 'superseded')", name=op.f('ck_proposals_known_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_proposals_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['care_plans.id'], name=op.f('fk_proposals_plan_id_care_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index('ix_proposals_status_expires', ['status', 'expires_at'], unique=False)

    op.create_table('held_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('discipline_code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('phase_name', sa.String(length=40), nullable=True),
    sa.Column('plan_week', sa.Integer(), nullable=True),
    sa.Column('starts_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('appointment_sequence', sa.Integer(), nullable=True),
    sa.Column('previous_provider_id', sa.Integer(), nullable=True),
    sa.Column('previous_starts_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("action IN ('create', 'move')", name=op.f('ck_held_slots_known_action')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_held_slots_starts_before_ends')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_held_slots_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['discipline_code'], ['disciplines.code'], name=op.f('fk_held_slots_discipline_code_disciplines')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_held_slots_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_held_slots_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_held_slots_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_slots'))
    )
    with op.batch_alter_table('held_slots', schema=None) as batch_op:
        batch_op.create_index('ix_held_slots_patient_time', ['patient_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_slots_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index('ix_held_slots_provider_time', ['provider_id', 'starts_at'], unique=False)



def downgrade():
    with op.batch_alter_table('held_slots', schema=None) as batch_op:
        batch_op.drop_index('ix_held_slots_provider_time')
        batch_op.drop_index(batch_op.f('ix_held_slots_proposal_id'))
        batch_op.drop_index('ix_held_slots_patient_time')

    op.drop_table('held_slots')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_status_expires')
        batch_op.drop_index(batch_op.f('ix_proposals_plan_id'))

    op.drop_table('proposals')
