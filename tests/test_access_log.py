"""Tokens in URLs (calendar feeds, e-mail links) and query strings never reach a request log: gunicorn's,
run here as `make run` runs it, and Werkzeug's development server."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from careplan import REPOSITORY
from careplan.access_log import SECRET_PATHS
from careplan.reminders.links import link_token
from tests import factories
from tests.mail.smtp_server import free_port

GUNICORN = Path(sys.executable).with_name("gunicorn")


@pytest.fixture
def secrets_in_urls(app, client, auth):
    """(path, the secrets in it, headers) of requests that carry a credential or a patient's name."""
    with app.app_context():
        provider = factories.provider()
        provider_id = provider.id
        link = link_token(factories.appointment(provider=provider), "confirm")
    feed_token = client.post(f"/api/v1/providers/{provider_id}/calendar-feed",
                             headers=auth("front_desk")).get_json()["token"]
    link_url = f"/api/v1/appointment-links/{link}"
    return [
        (f"/calendar/{feed_token}.ics", [feed_token], {}),
        (link_url, [link], {}),
        # The link page's stylesheet is fetched with the link in the Referer.
        ("/static/careplan.css", [link], {"Referer": f"http://127.0.0.1{link_url}"}),
        ("/api/v1/patients?q=Kowalski&token=hunter2secret", ["Kowalski", "hunter2secret"],
         {"Authorization": "Bearer cp_bearer-secret-value"}),
    ]


def _fetch(base: str, requests) -> None:
    for path, _, headers in requests:
        try:
            urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=10).read()
        except urllib.error.HTTPError:
            pass  # a 401 is logged like a 200


def _wait_for(url: str, process=None) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            assert process is None or process.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)


def test_gunicorn_access_log_holds_no_tokens(secrets_in_urls, database_url, tmp_path):
    port = free_port()
    # The access log in the combined format, which also writes the referer and the user agent.
    environment = {**os.environ, "CAREPLAN_ENV": "testing", "DATABASE_URL": database_url}
    log = tmp_path / "access.log"
    process = subprocess.Popen(
        [str(GUNICORN), "-c", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", str(log), "--access-logformat",
         '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(U)s %(q)s %({authorization}i)s',
         "wsgi:app"],
        cwd=REPOSITORY, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        _fetch(f"http://127.0.0.1:{port}", secrets_in_urls)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    written = log.read_text()
    assert "/calendar/[redacted] " in written and "/api/v1/appointment-links/[redacted] " in written
    assert "/api/v1/patients?q=[redacted]&token=[redacted] " in written
    for _, secrets, _ in secrets_in_urls:
        for secret in secrets:
            assert secret not in written and secret not in output
    assert "bearer-secret-value" not in written


def test_the_development_server_log_holds_no_tokens(app, secrets_in_urls, caplog):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            _fetch(f"http://127.0.0.1:{server.port}", secrets_in_urls)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    written = "\n".join(record.getMessage() for record in caplog.records if record.name == "werkzeug")
    assert "/calendar/[redacted]" in written
    for _, secrets, _ in secrets_in_urls:
        for secret in secrets:
            assert secret not in written


def test_every_route_with_a_token_in_its_path_is_redacted(app):
    for rule in app.url_map.iter_rules():
        if "token" in rule.arguments and not rule.rule.startswith("/api/v1/auth/"):
            assert rule.rule.startswith(SECRET_PATHS), rule.rule


def test_the_audit_trail_and_error_log_keep_no_feed_url(app, client):
    from sqlalchemy import select

    from careplan.audit.models import AuditEvent
    from careplan.extensions import db

    guessed = "guessed-feed-token-0123456789abcdef"
    assert client.get(f"/calendar/{guessed}.ics").status_code == 404
    with app.app_context():
        details = list(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "denied")))
    assert details and all(guessed not in detail for detail in details)
    assert any("/calendar/[redacted]" in detail for detail in details)


def test_in_production_gunicorns_own_lines_are_json_like_the_services(database_url, tmp_path):
    """A log shipper reads stderr one JSON object a line: gunicorn's lines (starting, booting, exiting) too."""
    port = free_port()
    environment = {**os.environ, "CAREPLAN_ENV": "production", "DATABASE_URL": database_url,
                   "SECRET_KEY": "a-long-random-value-every-host-shares", "MAIL_SERVER": "127.0.0.1",
                   # The machine's Redis (the limiter connects only when a limited route is asked for).
                   "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15", "PUBLIC_BASE_URL": "https://care.example.org"}
    process = subprocess.Popen(
        [str(GUNICORN), "-c", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", str(tmp_path / "access.log"), "wsgi:app"],
        cwd=REPOSITORY, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
    finally:
        process.terminate()
        errors = process.communicate(timeout=30)[1].decode()
    lines = errors.splitlines()
    assert any("Booting worker" in line for line in lines), errors
    for line in lines:
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(entry)
