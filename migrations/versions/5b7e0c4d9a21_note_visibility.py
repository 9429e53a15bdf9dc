"""note visibility: the author chooses who reads a note (team, discipline, author); psychotherapy's default is
its own clinicians

Revision ID: 5b7e0c4d9a21
Revises: 5b7e2c9d41a8
Create Date: 2026-12-05 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b7e0c4d9a21'
down_revision = '5b7e2c9d41a8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("disciplines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_visibility", sa.String(length=20), server_default="team", nullable=False))
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visibility", sa.String(length=20), server_default="team", nullable=False))
    op.execute("UPDATE disciplines SET note_visibility = 'discipline' WHERE code = 'psychotherapy'")
    # Notes already written take their discipline's default, so psychotherapy notes close to the rest of the team.
    op.execute("UPDATE notes SET visibility = (SELECT d.note_visibility FROM disciplines d "
               "WHERE d.code = notes.discipline_code)")


def downgrade():
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_column("visibility")
    with op.batch_alter_table("disciplines", schema=None) as batch_op:
        batch_op.drop_column("note_visibility")
