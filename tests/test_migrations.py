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


def test_a_table_rebuild_on_sqlite_leaves_the_rows_referring_to_it(tmp_path):
    """Upgrading a database that has patients with accounts across the migration that rebuilds `patients`
    (SQLite batch mode: copy, DROP, rename) keeps every account linked to its patient."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from careplan import create_app

    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url}, instance_path=str(tmp_path))
    with app.app_context():
        upgrade(revision="6bc0ae06fff7")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO patients (id, name, email, phone, reminder_opt_out, created_at, version) "
                "VALUES (1, 'Martha Kowalski', 'martha@mail.example', '', 0, '2026-12-01 09:00:00', 1)"))
            connection.execute(text(
                "INSERT INTO users (id, email, role, patient_id, active, created_at, failed_logins) "
                "VALUES (1, 'martha@mail.example', 'patient', 1, 1, '2026-12-01 09:00:00', 0)"))
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT patient_id FROM users WHERE id = 1")).scalar() == 1
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()
