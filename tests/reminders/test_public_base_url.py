"""E-mail links point where the service answers: in development PUBLIC_BASE_URL follows PORT."""
from __future__ import annotations

import pytest

from careplan import create_app
from careplan.reminders.links import link_url
from careplan.scheduling.models import Appointment


def _base_url(tmp_path, config_name: str) -> tuple[str, str]:
    app = create_app(config_name, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                                   "SECRET_KEY": "k", "SCHEDULER_IN_PROCESS": False,
                                   "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", "MAIL_SERVER": "127.0.0.1"},
                     instance_path=str(tmp_path / config_name))
    with app.app_context():
        return app.config["PUBLIC_BASE_URL"], link_url(Appointment(id=1, sequence=0), "confirm")


@pytest.fixture
def environment(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("CAREPLAN_ENV", raising=False)
    return monkeypatch


def test_in_development_links_follow_the_port_make_run_serves_on(tmp_path, environment):
    environment.setenv("PORT", "8123")
    base, link = _base_url(tmp_path, "development")
    assert base == "http://127.0.0.1:8123"
    assert link.startswith("http://127.0.0.1:8123/api/v1/appointment-links/")
    environment.delenv("PORT")
    assert _base_url(tmp_path, "development")[0] == "http://127.0.0.1:5000"


def test_a_public_base_url_given_wins_and_production_ignores_the_port(tmp_path, environment):
    environment.setenv("PORT", "8123")
    environment.setenv("PUBLIC_BASE_URL", "https://care.example.org")
    assert _base_url(tmp_path, "development")[0] == "https://care.example.org"
    # Behind a proxy the port the process listens on is not where patients reach it.
    assert _base_url(tmp_path, "production")[0] == "https://care.example.org"
