"""audit_event_patients: the patients a list or search read returned, so "who saw patient X" is complete

Revision ID: 8e3f1a6c2b47
Revises: 5b7e0c4d9a21
Create Date: 2026-12-05 05:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8e3f1a6c2b47'
down_revision = '5b7e0c4d9a21'
branch_labels = None
depends_on = None

# Append-only like audit_events (careplan.audit.append_only keeps the same SQLite statements for the tests).
SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_event_patients_no_update BEFORE UPDATE ON audit_event_patients "
    "BEGIN SELECT RAISE(ABORT, 'audit_event_patients is append-only'); END",
    "CREATE TRIGGER audit_event_patients_no_delete BEFORE DELETE ON audit_event_patients "
    "BEGIN SELECT RAISE(ABORT, 'audit_event_patients is append-only'); END",
)
# The function audit_events_append_only() exists since 0d9e50dabfa0.
POSTGRES_TRIGGER = (
    "CREATE TRIGGER audit_event_patients_append_only BEFORE UPDATE OR DELETE ON audit_event_patients "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")


def upgrade():
    op.create_table('audit_event_patients',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['audit_events.id'], name=op.f('fk_audit_event_patients_event_id_audit_events')),
    sa.PrimaryKeyConstraint('event_id', 'patient_id', name=op.f('pk_audit_event_patients'))
    )
    with op.batch_alter_table('audit_event_patients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_patients_patient_id'), ['patient_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_patients_append_only ON audit_event_patients")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_patients_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_patients_no_delete")
    with op.batch_alter_table('audit_event_patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_patients_patient_id'))
    op.drop_table('audit_event_patients')
