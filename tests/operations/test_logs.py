"""The service's log: one JSON object a line in production, the request id on every line of a request and
in every error body, and no token, password or searched name anywhere in it."""
from __future__ import annotations

import logging

from careplan.extensions import db
from tests import factories

PASSWORD = "a password nobody should ever read"
SEARCHED = "Kowalski"
FEED_TOKEN = "feedtoken0123456789abcdef"


def test_every_line_of_a_request_carries_its_id_and_the_error_says_it(service_log):
    app, lines = service_log
    client = app.test_client()
    answered = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "desk-42.a"})
    assert answered.status_code == 404
    assert answered.headers["X-Request-ID"] == "desk-42.a"
    assert answered.get_json()["error"]["request_id"] == "desk-42.a"
    mine = [line for line in lines() if line["request_id"] == "desk-42.a"]
    assert mine and mine[-1]["logger"] == "careplan.requests" and mine[-1]["status"] == 404
    assert mine[-1]["route"] == "(unmatched)" and {"time", "level", "message"} <= set(mine[-1])


def test_a_request_without_a_sane_id_gets_one_of_ours(service_log):
    app, lines = service_log
    client = app.test_client()
    plain = client.get("/healthz")
    made = plain.headers["X-Request-ID"]
    assert len(made) == 32
    forged = client.get("/healthz", headers={"X-Request-ID": "x level=ERROR {fake} line" * 9})
    assert forged.headers["X-Request-ID"] not in {"x level=ERROR {fake} line" * 9, made}
    assert {line["request_id"] for line in lines()} >= {made, forged.headers["X-Request-ID"]}


def test_lines_logged_inside_a_service_carry_the_request_id(service_log, monkeypatch):
    app, lines = service_log
    from careplan.providers import service

    def explode(data):
        logging.getLogger("careplan.providers").warning("about to fail for %s", data["email"])
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "create_provider", explode)
    with app.app_context():
        headers = factories.bearer(factories.user("admin"))
    failed = app.test_client().post("/api/v1/providers", headers={**headers, "X-Request-ID": "r-500"},
                                    json={"name": "X", "email": "x@clinic.example", "disciplines": ["physiotherapy"]})
    assert failed.status_code == 500 and failed.get_json()["error"]["request_id"] == "r-500"
    by_logger = {line["logger"]: line for line in lines() if line["request_id"] == "r-500"}
    assert by_logger["careplan.providers"]["message"] == "about to fail for x@clinic.example"
    assert "boom" in by_logger["careplan.errors"]["exc_info"]
    assert by_logger["careplan.requests"]["status"] == 500


def test_no_token_password_or_search_term_is_logged(service_log):
    app, lines = service_log
    client = app.test_client()
    with app.app_context():
        user = factories.user("front_desk", password=PASSWORD)
        email = user.email
        token = factories.bearer(user)["Authorization"].split()[1]
        db.session.remove()
    assert client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD + "!"}).status_code == 401
    assert client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code == 201
    assert client.get(f"/api/v1/patients?q={SEARCHED}",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get(f"/calendar/{FEED_TOKEN}.ics").status_code == 404
    assert client.get(f"/api/v1/appointment-links/{FEED_TOKEN}").status_code in {404, 400}
    text = lines.text()
    assert "/api/v1/patients?q=[redacted]" in text and "/calendar/[redacted]" in text
    for secret in (PASSWORD, SEARCHED, FEED_TOKEN, token):
        assert secret not in text


def test_gunicorn_access_lines_end_with_the_request_id(app, database_url, tmp_path):
    import os
    import subprocess
    import urllib.request

    from careplan import REPOSITORY
    from tests.mail.smtp_server import free_port
    from tests.test_access_log import GUNICORN, _wait_for

    port = free_port()
    log = tmp_path / "access.log"
    process = subprocess.Popen(
        [str(GUNICORN), "-c", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", str(log), "wsgi:app"],
        cwd=REPOSITORY, env={**os.environ, "CAREPLAN_ENV": "testing", "DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/healthz",
                                                      headers={"X-Request-ID": "lb-7f3a"}), timeout=10).read()
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert any(line.startswith("127.0.0.1 ") and line.endswith(" lb-7f3a")
               for line in log.read_text().splitlines())


def test_the_schedulers_every_run_is_not_logged_at_info(service_log):
    """APScheduler's "Running job" and "executed successfully", every 30 s a process, are not written; its
    warnings (a missed or failed run) are."""
    import logging

    scheduler = logging.getLogger("apscheduler.executors.default")
    assert not scheduler.isEnabledFor(logging.INFO)
    assert scheduler.isEnabledFor(logging.WARNING)


def test_every_error_body_carries_the_request_id_fhir_and_pages_too(client, auth):
    """What a caller quotes to the clinic's IT: the JSON API's error, FHIR's OperationOutcome and an error page."""
    headers = {**auth("front_desk"), "X-Request-ID": "desk-7.b"}
    api = client.get("/api/v1/patients/999999", headers=headers)
    assert api.status_code == 404 and api.get_json()["error"]["request_id"] == "desk-7.b"
    fhir = client.get("/fhir/Patient/999999", headers=headers)
    assert fhir.status_code == 404 and "(request id desk-7.b)" in fhir.get_json()["issue"][0]["diagnostics"]
    page = client.get("/desk/patients/999999", headers=headers)
    assert page.status_code == 404 and "Request id: desk-7.b" in page.text
