"""Fixtures shared by the whole suite.

The suite runs on SQLite by default and on PostgreSQL when
CAREPLAN_TEST_ON_POSTGRES is set (the Makefile does that when
TEST_DATABASE_URL is given). Each run gets a fresh database built by the
migrations; each test starts from the migrated reference data.
"""
from __future__ import annotations

import os
import secrets
import threading

import pytest
from sqlalchemy import delete, event, insert, make_url, select, text, update
from sqlalchemy.orm import Session

from careplan import create_app
from careplan.audit.append_only import SQLITE_TRIGGERS
from careplan.extensions import db, limiter
from tests import factories

ON_POSTGRES = bool(os.environ.get("CAREPLAN_TEST_ON_POSTGRES"))
REFERENCE_TABLES = ("disciplines", "clinic_settings")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'careplan.db'}"
        return
    import psycopg

    server = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"careplan_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from flask_migrate import upgrade

    instance = tmp_path_factory.mktemp("instance")
    application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url}, instance_path=str(instance))
    with application.app_context():
        upgrade()
        application.extensions["careplan_test_reference"] = {
            name: [dict(row._mapping) for row in db.session.execute(select(db.metadata.tables[name]))]
            for name in REFERENCE_TABLES}
        db.session.remove()
    return application


# The background workers an app starts when it serves (careplan.reminders.scheduler.start_when_serving).
BACKGROUND_THREADS = ("APScheduler", "solve-jobs-")


@pytest.fixture(autouse=True)
def _no_background_workers_left():
    """A test that starts the in-process scheduler or the solve-job runners stops them. Left running, they poll a
    database the test has removed for the rest of the run, and their logged tracebacks (Python 3.11 parses
    each traceback line) raced the suite's own `ast.parse`: 'AST constructor recursion depth mismatch'."""
    before = {thread.ident for thread in threading.enumerate()}
    yield
    left = [thread.name for thread in threading.enumerate()
            if thread.ident not in before and thread.is_alive() and thread.name.startswith(BACKGROUND_THREADS)]
    assert left == [], f"the test left background workers running: {left}"


@pytest.fixture(autouse=True)
def _fresh_data(request):
    """Every test starts from the reference data alone, whatever the test before it committed."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for name in SQLITE_TRIGGERS:
                db.session.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            for table in tables:
                db.session.execute(delete(table))
            for statement in SQLITE_TRIGGERS.values():
                db.session.execute(text(statement))
        for name, rows in application.extensions["careplan_test_reference"].items():
            if rows:
                db.session.execute(insert(db.metadata.tables[name]), rows)
        db.session.commit()
        db.session.remove()
    limiter.reset()


@pytest.fixture
def ctx(app):
    """An application context, for calling services directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(app):
    """auth("front_desk") -> headers of a fresh user of that role (linked to a new provider/patient as needed)."""

    def headers(role: str, **links) -> dict:
        with app.app_context():
            user = factories.user(role, **links)
            return factories.bearer(user)

    return headers


@pytest.fixture
def run_jobs(app):
    """run_jobs() runs every queued solve job to its end, as a worker would, and answers their ids."""

    def run() -> list[int]:
        from careplan.jobs.runner import run_pending

        with app.app_context():
            return run_pending()

    return run


@pytest.fixture
def solved(client, run_jobs):
    """solved(answer, headers) -> the job (JSON) a 202 answer named, once a worker has run it."""

    def finish(answer, headers: dict) -> dict:
        assert answer.status_code == 202, answer.get_json()
        run_jobs()
        job = client.get(answer.headers["Location"], headers=headers)
        assert job.status_code == 200, job.get_json()
        return job.get_json()

    return finish


@pytest.fixture
def writer_in_between(app):
    """Append (model, id): another writer commits that row after the next request read it and before it writes.

    The other writer's UPDATE runs on the request's own connection at its first flush: to the ORM it looks
    exactly like a transaction that committed in between (SQLite's BEGIN IMMEDIATE would otherwise make the
    second connection wait for the first)."""
    targets = []

    def bump(session, flush_context, instances):
        # Only once the request has read the row and is about to write it.
        for model, key in list(targets):
            if any(isinstance(obj, model) and obj.id == key for obj in session.dirty):
                table = model.__table__
                session.connection().execute(update(table).where(table.c.id == key)
                                             .values(version=table.c.version + 1))
                targets.remove((model, key))

    event.listen(Session, "before_flush", bump)
    yield targets
    event.remove(Session, "before_flush", bump)


@pytest.fixture
def service_log(app, database_url, tmp_path):
    """(app, lines) -> an app on the test database that writes the service's own log as production does
    (LOG_FORMAT=json), into a buffer; `lines()` answers what was written so far, one dict a line."""
    import io
    import json
    import logging

    from careplan.operations.logs import ServiceLogHandler

    logged = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "LOG_TO_STDERR": True,
                                    "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}, instance_path=str(tmp_path))
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, ServiceLogHandler))
    buffer = io.StringIO()
    handler.setStream(buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    lines.text = buffer.getvalue
    yield logged, lines
    logging.getLogger().removeHandler(handler)
    for name in ("careplan", "apscheduler"):
        logging.getLogger(name).setLevel(logging.NOTSET)
