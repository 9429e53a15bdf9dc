"""webhooks: endpoints and their deliveries

Revision ID: f93933f794c0
Revises: b7d4e2a9c310
Create Date: 2026-12-05 06:11:29.017824

"""
from alembic import op
import sqlalchemy as sa

import careplan.db


# revision identifiers, used by Alembic.
revision = 'f93933f794c0'
down_revision = 'b7d4e2a9c310'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_webhook_endpoints_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('due_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=120), nullable=True),
    sa.Column('lease_expires_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=False),
    sa.Column('delivered_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'cancelled')", name=op.f('ck_webhook_deliveries_known_status')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_endpoint_created', ['endpoint_id', 'created_at'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_status_due', ['status', 'due_at'], unique=False)



def downgrade():
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_status_due')
        batch_op.drop_index('ix_webhook_deliveries_endpoint_created')

    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_endpoints')
