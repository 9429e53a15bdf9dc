"""Production refuses to start without what several hosts must share, and says which variable is missing."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from careplan import REPOSITORY, create_app
from careplan.operations.settings_check import ConfigurationError

SHARED = {"SECRET_KEY": "a-long-random-value-every-host-shares", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6399/0",
          "MAIL_SERVER": "smtp.clinic.example", "PUBLIC_BASE_URL": "https://care.example.org"}


def _production(tmp_path, **settings):
    return create_app("production", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}",
                                      "LOG_TO_STDERR": False, **settings},
                      instance_path=str(tmp_path / "instance"))


@pytest.mark.parametrize("missing", sorted(SHARED))
def test_production_refuses_each_missing_shared_setting_by_name(tmp_path, missing):
    settings = {**SHARED, missing: None}
    if missing == "RATELIMIT_STORAGE_URI":
        settings[missing] = "memory://"
    with pytest.raises(ConfigurationError) as refused:
        _production(tmp_path, **settings)
    assert missing in str(refused.value)
    assert [name for name in SHARED if name in str(refused.value)] == [missing]
    # No key was made up on the side either.
    assert not (tmp_path / "instance" / "secret_key").exists()


@pytest.mark.parametrize("address", ["http://127.0.0.1:5000", "https://localhost/", "care.example.org"])
def test_production_refuses_an_address_patients_cannot_reach(tmp_path, address):
    with pytest.raises(ConfigurationError) as refused:
        _production(tmp_path, **{**SHARED, "PUBLIC_BASE_URL": address})
    assert f"PUBLIC_BASE_URL is {address!r}" in str(refused.value) or f"PUBLIC_BASE_URL is {address}:" in str(
        refused.value)


def test_production_starts_with_the_shared_settings(tmp_path):
    app = _production(tmp_path, **SHARED)
    assert app.config["SECRET_KEY"] == SHARED["SECRET_KEY"]


def test_development_still_makes_its_own_key(tmp_path):
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'd.db'}",
                                        "LOG_TO_STDERR": False, "SCHEDULER_IN_PROCESS": False},
                     instance_path=str(tmp_path / "instance"))
    assert (tmp_path / "instance" / "secret_key").read_text().strip() == app.config["SECRET_KEY"]


def test_a_production_command_exits_with_the_variable_named(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SHARED}
    env.update(CAREPLAN_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}",
               RATELIMIT_STORAGE_URI="redis://127.0.0.1:6399/0", MAIL_SERVER="smtp.clinic.example",
               PUBLIC_BASE_URL="https://care.example.org")
    started = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "heads"], cwd=REPOSITORY,
                             env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert "SECRET_KEY is not set" in started.stderr
    assert "Traceback" not in started.stderr


def test_gunicorn_refuses_to_start_in_production_and_does_not_retry(tmp_path):
    """The master checks before any worker starts: a worker that refused was started again, for ever."""
    env = {k: v for k, v in os.environ.items() if k not in SHARED}
    env.update(CAREPLAN_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}",
               RATELIMIT_STORAGE_URI="redis://127.0.0.1:6399/0", MAIL_SERVER="smtp.clinic.example")
    gunicorn = [str(Path(sys.executable).with_name("gunicorn")), "-c", "config/gunicorn.conf.py",
                "--bind", "127.0.0.1:0", "wsgi:app"]
    started = subprocess.run(gunicorn, cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert started.stderr.count("careplan refuses to start in production") == 1
    assert "PUBLIC_BASE_URL is not set" in started.stderr and "Booting worker" not in started.stderr
