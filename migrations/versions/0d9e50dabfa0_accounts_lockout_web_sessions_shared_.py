"""accounts lockout, web sessions, shared notes, append-only audit

Users get a failed-sign-in count and a lock; browser sessions get a server-side table so that logout and
disabling end them at once; the care team's SOAP notes keep every version; and the database itself
refuses UPDATE and DELETE on audit_events (a trigger on both PostgreSQL and SQLite). The trigger SQL is
copied here, not imported, so this migration stays as it was when it ran.

Revision ID: 0d9e50dabfa0
Revises: 735aa5fecce3
Create Date: 2026-11-21 10:54:11.487099

"""
from alembic import op
import sqlalchemy as sa

import careplan.db


# revision identifiers, used by Alembic.
revision = '0d9e50dabfa0'
down_revision = '735aa5fecce3'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
)
POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$")
POSTGRES_TRIGGER = (
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")


def upgrade():
    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('session_hash', name=op.f('uq_web_sessions_session_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=False),
    sa.Column('author_provider_id', sa.Integer(), nullable=False),
    sa.Column('discipline_code', sa.String(length=40), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('noted_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_notes_appointment_id_appointments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_provider_id'], ['providers.id'], name=op.f('fk_notes_author_provider_id_providers')),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_notes_author_user_id_users')),
    sa.ForeignKeyConstraint(['discipline_code'], ['disciplines.code'], name=op.f('fk_notes_discipline_code_disciplines')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_notes_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notes_author_user_id'), ['author_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notes_noted_at'), ['noted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notes_patient_id'), ['patient_id'], unique=False)

    op.create_table('note_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('subjective', sa.Text(), nullable=False),
    sa.Column('objective', sa.Text(), nullable=False),
    sa.Column('assessment', sa.Text(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=False),
    sa.Column('written_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['notes.id'], name=op.f('fk_note_versions_note_id_notes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note_versions')),
    sa.UniqueConstraint('note_id', 'number', name=op.f('uq_note_versions_note_id_number'))
    )
    with op.batch_alter_table('note_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_versions_note_id'), ['note_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', careplan.db.UTCDateTime(timezone=True), nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')

    with op.batch_alter_table('note_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_note_versions_note_id'))

    op.drop_table('note_versions')
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notes_patient_id'))
        batch_op.drop_index(batch_op.f('ix_notes_noted_at'))
        batch_op.drop_index(batch_op.f('ix_notes_author_user_id'))

    op.drop_table('notes')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))

    op.drop_table('web_sessions')
