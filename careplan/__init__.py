"""careplan: coordinated, multidisciplinary care scheduling for a clinic.

Imports stay inside `create_app` so that `python -m careplan.optimizer`
starts without loading Flask or SQLAlchemy.
"""
from __future__ import annotations

import json
import os
import secrets
from functools import partial
from pathlib import Path

from sqlalchemy.engine import make_url

# Settings the service contract lets the environment override, with their types.
ENVIRONMENT_SETTINGS = {
    "SECRET_KEY": str,
    "CLINIC_TIMEZONE": str,
    "REMINDER_OFFSETS_HOURS": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": lambda v: v.lower() in {"1", "true", "yes", "on"},
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_DEFAULT_SENDER": str,
    "MAIL_USE_SSL": lambda v: v.lower() in {"1", "true", "yes", "on"},
    "MAIL_SSL_CAFILE": str,
    "MAIL_BACKEND": str,
    "PUBLIC_BASE_URL": str,
    "REMINDER_BATCH_SIZE": int,
    "REMINDER_LEASE_SECONDS": int,
    "SESSION_COOKIE_SECURE": lambda v: v.lower() in {"1", "true", "yes", "on"},
    "RATELIMIT_STORAGE_URI": str,
    "LOG_FORMAT": str,
    "LOG_LEVEL": str,
    "METRICS_TOKEN": str,
    "MAX_CONTENT_LENGTH": int,
    "JOB_LEASE_SECONDS": int,
    "JOBS_PER_PROCESS": int,
    "JOB_POLL_SECONDS": float,
    "JOB_NICE": int,
    "JOB_SOLVER_THREADS": int,
}

REPOSITORY = Path(__file__).resolve().parent.parent


_compact_json = partial(json.dumps, separators=(",", ":"))


def _configure(config, name: str, overrides: dict | None) -> None:
    """The named settings, then the environment's, then the caller's."""
    from config.settings import BY_NAME

    config.from_object(BY_NAME[name])
    for key, cast in ENVIRONMENT_SETTINGS.items():
        if os.environ.get(key):
            config[key] = cast(os.environ[key])
    if os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if config.get("PUBLIC_BASE_URL_FOLLOWS_PORT") and not os.environ.get("PUBLIC_BASE_URL"):
        # `make run PORT=8001` serves on 8001: the links it e-mails must point there, not to 5000.
        config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{int(os.environ.get('PORT') or 5000)}"
    config.update(overrides or {})


def environment_settings():
    """The settings the environment chooses (CAREPLAN_ENV and the contract's variables), without an app: for
    gunicorn's master, which makes none."""
    from flask import Config

    config = Config(str(REPOSITORY))
    _configure(config, os.environ.get("CAREPLAN_ENV", "development"), None)
    return config


def check_environment() -> None:
    """Refuse (ConfigurationError) a production environment that lacks what every host must share, before any
    app is made: gunicorn's master calls it, since a worker that refuses is only started again."""
    if os.environ.get("CAREPLAN_ENV", "development") == "production":
        from careplan.operations.settings_check import check_production

        check_production(environment_settings())


def create_app(config_name: str | None = None, overrides: dict | None = None, instance_path: str | None = None):
    from flask import Flask

    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    name = config_name or os.environ.get("CAREPLAN_ENV", "development")
    _configure(app.config, name, overrides)
    if name == "production":
        from careplan.operations.settings_check import check_production

        check_production(app.config)

    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{os.path.join(app.instance_path, 'careplan.db')}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite waits for the writer ahead of it instead of failing at once.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30},
                                                   **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).drivername == "postgresql+psycopg":
        # No server-side prepared statements: after a statement's fifth run psycopg prepares it, and PostgreSQL
        # may then plan it once for any parameters. For a time range over the appointments that generic plan
        # was slower (a plan's problem document at L went from 140 to 200 ms from its tenth request on); each
        # statement is now planned for its own values, as psycopg2 always did. (A PgBouncer in transaction
        # mode needs this too.)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "connect_args": {"prepare_threshold": None,
                             **app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args", {})}}
    # JSON columns without the spaces json.dumps puts after separators: a proposal keeps its problem document,
    # tens of KB at a network's scale (issue 19).
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"json_serializer": _compact_json,
                                               **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    app.config.setdefault("API_SPEC_OPTIONS", {
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "info": {"description": "Coordinated care plans, optimized schedules, reminders and shared notes."},
    })

    _bind_extensions(app)
    _register_blueprints(app)
    _register_commands(app)
    _add_security_headers(app)
    if app.config["SCHEDULER_IN_PROCESS"] and not app.testing:
        from careplan.reminders.scheduler import start_when_serving

        start_when_serving(app)
    return app


def _instance_secret(instance: Path) -> str:
    """Generated once and kept, so sessions and signed links survive a restart."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _bind_extensions(app) -> None:
    from careplan import errors, limits, models, text_guard  # noqa: F401  (models: every table on the metadata)
    from careplan.db import tune_sqlite
    from careplan.extensions import api, csrf, db, limiter, mail, migrate
    from apispec.ext.marshmallow import MarshmallowPlugin

    from careplan.schemas import URL_CONVERTERS, ClockTime, RecordIdConverter, Weekday, schema_name

    from careplan.operations import logs

    # First, so that every later hook and error of a request already has its request id.
    logs.register(app)
    from careplan.operations import metrics

    metrics.register(app)
    app.url_map.converters.update(URL_CONVERTERS)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(REPOSITORY / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    mail.init_app(app)
    api.init_app(app, spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name)})
    api.register_field(ClockTime, "string", None)
    api.register_field(Weekday, "string", None)
    api.register_converter(RecordIdConverter, RecordIdConverter.openapi)
    limiter.init_app(app)
    from careplan import i18n

    i18n.register(app)
    errors.register(app, rollback=_forget_the_transaction)
    # Size and depth first: the text check walks the parsed body.
    limits.register(app)
    text_guard.register(app)
    from careplan import access_log

    access_log.register(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            tune_sqlite(db.engine)


def _register_blueprints(app) -> None:
    from careplan import errors, health
    from careplan.auth import edge
    from careplan.audit.routes import blp as audit_trail
    from careplan.auth import web
    from careplan.auth.routes import blp as auth
    from careplan.auth.routes import users_blp as users
    from careplan.calendar.routes import blp as clinic_calendar
    from careplan.notes.routes import blp as notes
    from careplan.clinic.routes import blp as clinic
    from careplan.extensions import api
    from careplan.fhir.feed_routes import blp as calendar_feeds, bp as calendar
    from careplan.fhir.routes import bp as fhir
    from careplan.intake.routes import blp as intake
    from careplan.patients.routes import blp as patients
    from careplan.plans.routes import blp as plans
    from careplan.portal.routes import blp as portal, offers_blp as slot_offers
    from careplan.proposals.routes import blp as proposals
    from careplan.protocols.routes import blp as protocols
    from careplan.providers.routes import blp as providers
    from careplan.reminders.routes import blp as reminders, links_blp as appointment_links
    from careplan.rooms.routes import blp as rooms
    from careplan.scheduling.routes import blp as appointments
    from careplan.web import bp as web_pages
    from careplan.webhooks.routes import blp as webhooks
    from careplan.jobs.routes import blp as solve_jobs
    from careplan.web.errors import error_page
    from careplan.page_query import refuse_unknown_query

    app.register_blueprint(health.bp)
    app.register_blueprint(fhir)
    app.register_blueprint(calendar)
    web.register(app)
    edge.register(app)
    errors.register_page_renderer(app, error_page)
    for blueprint in (clinic, providers, patients, protocols, intake, plans, appointments, calendar_feeds,
                      reminders, appointment_links, auth, users, notes, audit_trail, proposals, clinic_calendar,
                      portal, slot_offers, webhooks, solve_jobs, rooms):
        api.register_blueprint(blueprint)
    # Pages refuse query parameters they do not take (a 400 page), as the API's operations do (a 422).
    app.before_request(refuse_unknown_query)
    app.register_blueprint(web_pages)


def _register_commands(app) -> None:
    from careplan import cli

    cli.register(app)


def _add_security_headers(app) -> None:
    from careplan import headers

    headers.register(app)


def _forget_the_transaction() -> None:
    """Roll back what the request began; on a connection that is gone, rolling back fails as well."""
    from careplan.errors import UNREACHABLE
    from careplan.extensions import db

    try:
        db.session.rollback()
    except UNREACHABLE:
        db.session.close()
