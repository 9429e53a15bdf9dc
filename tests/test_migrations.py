"""The migrations are the only way the schema is made, and they match the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from careplan.extensions import db


def test_models_and_migrations_do_not_drift(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_reference_data_is_migrated(ctx):
    from careplan.clinic.service import settings

    assert settings().slot_minutes == 15
