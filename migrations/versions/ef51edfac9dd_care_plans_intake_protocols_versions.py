"""care plans: intake with its red-flag screen, versioned protocol templates, plan versions and links

Existing plans get an empty list of referral signs.

Revision ID: ef51edfac9dd
Revises: a5d0e99a308f
Create Date: 2026-11-21 10:55:26.425577

"""
from alembic import op
import sqlalchemy as sa

import careplan.db


# revision identifiers, used by Alembic.
revision = 'ef51edfac9dd'
down_revision = 'a5d0e99a308f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('intakes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('condition', sa.String(length=40), nullable=False),
    sa.Column('region', sa.String(length=20), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('symptoms', sa.JSON(), nullable=False),
    sa.Column('severity', sa.String(length=20), nullable=False),
    sa.Column('severity_answers', sa.JSON(), nullable=True),
    sa.Column('pain_stress_or_insomnia', sa.Boolean(), nullable=False),
    sa.Column('prefers_acupuncture', sa.Boolean(), nullable=False),
    sa.Column('preferences', sa.Text(), nullable=False),
    sa.Column('loss_of_bladder_or_bowel_control', sa.Boolean(), nullable=False),
    sa.Column('sudden_severe_limb_weakness', sa.Boolean(), nullable=False),
    sa.Column('rapidly_progressing_numbness_or_paralysis', sa.Boolean(), nullable=False),
    sa.Column('fever', sa.Boolean(), nullable=False),
    sa.Column('unexplained_weight_loss', sa.Boolean(), nullable=False),
    sa.Column('night_sweats', sa.Boolean(), nullable=False),
    sa.Column('constant_pain_at_rest', sa.Boolean(), nullable=False),
    sa.Column('recent_infection', sa.Boolean(), nullable=False),
    sa.Column('trauma_with_head_injury', sa.Boolean(), nullable=False),
    sa.Column('pain_beyond_two_weeks_despite_rest', sa.Boolean(), nullable=False),
    sa.Column('new_weakness_or_numbness', sa.Boolean(), nullable=False),
    sa.Column('pain_below_knee', sa.Boolean(), nullable=False),
    sa.Column('screen_result', sa.String(length=20), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.Column('overridden_at', careplan.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overridden_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("region IN ('cervical', 'thoracic', 'lumbar')", name=op.f('ck_intakes_known_region')),
    sa.CheckConstraint("screen_result IN ('clear', 'red_flag', 'overridden')", name=op.f('ck_intakes_known_screen_result')),
    sa.CheckConstraint("severity IN ('mild', 'moderate', 'severe')", name=op.f('ck_intakes_known_severity')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_intakes_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['overridden_by_id'], ['users.id'], name=op.f('fk_intakes_overridden_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_intakes_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intakes'))
    )
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intakes_patient_id'), ['patient_id'], unique=False)

    op.create_table('protocol_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('condition', sa.String(length=40), nullable=False),
    sa.Column('region', sa.String(length=20), nullable=False),
    sa.Column('severity', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=400), nullable=False),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("region IN ('cervical', 'thoracic', 'lumbar')", name=op.f('ck_protocol_templates_known_region')),
    sa.CheckConstraint("severity IN ('mild', 'moderate', 'severe')", name=op.f('ck_protocol_templates_known_severity')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_protocol_templates_version_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_protocol_templates_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protocol_templates')),
    sa.UniqueConstraint('condition', 'region', 'severity', 'version', name=op.f('uq_protocol_templates_condition_region_severity_version'))
    )
    op.create_table('care_plan_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', careplan.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_care_plan_versions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['care_plans.id'], name=op.f('fk_care_plan_versions_plan_id_care_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_plan_versions')),
    sa.UniqueConstraint('plan_id', 'version', name=op.f('uq_care_plan_versions_plan_id_version'))
    )
    with op.batch_alter_table('care_plan_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plan_versions_plan_id'), ['plan_id'], unique=False)

    with op.batch_alter_table('care_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intake_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('template_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('template_snapshot', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('referral_signs', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_care_plans_intake_id'), ['intake_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_care_plans_intake_id_intakes'), 'intakes', ['intake_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_care_plans_template_id_protocol_templates'), 'protocol_templates', ['template_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_care_plans_created_by_id_users'), 'users', ['created_by_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('care_plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_care_plans_created_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_care_plans_template_id_protocol_templates'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_care_plans_intake_id_intakes'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_care_plans_intake_id'))
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('referral_signs')
        batch_op.drop_column('template_snapshot')
        batch_op.drop_column('template_id')
        batch_op.drop_column('intake_id')

    with op.batch_alter_table('care_plan_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plan_versions_plan_id'))

    op.drop_table('care_plan_versions')
    op.drop_table('protocol_templates')
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intakes_patient_id'))

    op.drop_table('intakes')
