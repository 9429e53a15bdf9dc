"""optimizer: a care-team member may be required; the most sessions in one day (clinic, patient)

Revision ID: b7e4c2a9d513
Revises: c4a1e0d2b7f3
Create Date: 2026-12-05 05:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e4c2a9d513'
down_revision = 'c4a1e0d2b7f3'
branch_labels = None
depends_on = None


def upgrade():
    # Plain added columns with server defaults: existing teams stay preferences, existing clinics get 3.
    op.add_column('care_team_members',
                  sa.Column('required', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('clinic_settings',
                  sa.Column('max_sessions_per_day', sa.Integer(), nullable=False, server_default='3'))
    op.add_column('patients', sa.Column('max_sessions_per_day', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('patients', 'max_sessions_per_day')
    op.drop_column('clinic_settings', 'max_sessions_per_day')
    op.drop_column('care_team_members', 'required')
