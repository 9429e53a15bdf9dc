"""The Flask commands of the service contract: `careplan`, `users` and `tokens`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from careplan.errors import ServiceError
from careplan.extensions import db

careplan_cli = AppGroup("careplan", help="Clinic data.")
users_cli = AppGroup("users", help="User accounts.")
tokens_cli = AppGroup("tokens", help="API tokens.")


def _fail(exc: ServiceError):
    fields = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
    raise click.ClickException(exc.message + (f" ({fields})" if fields else ""))


def _schema_ready() -> None:
    """A command run before the migrations says so, instead of a database error's traceback."""
    from sqlalchemy import inspect

    if not inspect(db.engine).has_table("alembic_version"):
        raise click.ClickException("The database has no tables yet: run `flask --app wsgi db upgrade` first.")


@careplan_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the clinic already has providers.")
def seed_demo(if_empty: bool):
    """Load the demo clinic: providers, templates, patients and a user of every role."""
    from careplan.demo import DEMO_LOGINS, DEMO_PASSWORD, DEMO_STEPS, load_demo
    from careplan.providers.models import Provider

    _schema_ready()
    has_clinic = db.session.scalar(select(Provider.id).limit(1)) is not None
    if has_clinic and not if_empty:
        raise click.ClickException("The database has a clinic already: the demo loads into an empty one "
                                   "(--if-empty leaves a clinic as it is).")
    if has_clinic:
        click.echo("The database has a clinic already; demo not loaded.")
    else:
        with click.progressbar(length=DEMO_STEPS, label="Loading the demo clinic", show_pos=True,
                               item_show_func=lambda step: step) as bar:
            load_demo(progress=lambda step: bar.update(1, step))
        click.echo("Demo clinic loaded.")
    click.echo(f"Demo logins (password '{DEMO_PASSWORD}' for all):")
    for role, email in DEMO_LOGINS:
        click.echo(f"  {role:<11} {email}")


@careplan_cli.command("load-protocols")
def load_protocols():
    """Load the clinic's protocol templates from config/protocols/: new ones are added, changed ones get a
    new version, unchanged ones are left (safe to run on every deployment)."""
    from careplan.protocols.service import CLINIC_PROTOCOLS, load_directory

    _schema_ready()
    try:
        templates = load_directory(CLINIC_PROTOCOLS)
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"{len(templates)} protocol templates current.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "front_desk", "provider", "patient"]))
@click.option("--password", help="Asked for (hidden, twice) when left out; on the command line it stays in "
                                   "the shell's history and the process list.")
@click.option("--token-only", is_flag=True, help="No password: the account signs in by API token only.")
@click.option("--provider", "provider_id", type=int, help="The provider a provider account belongs to.")
@click.option("--patient", "patient_id", type=int, help="The patient a patient account belongs to.")
def create_user(email, role, password, token_only, provider_id, patient_id):
    """Create a user."""
    from careplan.auth.service import create_user as create

    if token_only and password:
        raise click.UsageError("--token-only and --password exclude each other.")
    if password is None and not token_only:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create(email=email, role=role, password=password, provider_id=provider_id, patient_id=patient_id)
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"User {user.id} {user.email} ({user.role}) created.")


@tokens_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", default="cli", help="What the token is for.")
@click.option("--days", type=int, help="Lifetime in days (default API_TOKEN_DAYS).")
def create_token(email, name, days):
    """Create an API token for a user; the token is printed alone on the last line."""
    from careplan.auth.models import User
    from careplan.auth.service import issue_token

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        raise click.ClickException(f"No active user with e-mail {email}.")
    token = issue_token(user, name=name, days=days)
    click.echo(f"Token for {user.email} ({user.role}):")
    click.echo(token)


def register(app: Flask) -> None:
    from careplan.reminders.cli import reminders_cli, webhooks_dispatch, worker

    for group in (careplan_cli, users_cli, tokens_cli, reminders_cli, worker, webhooks_dispatch):
        app.cli.add_command(group)
