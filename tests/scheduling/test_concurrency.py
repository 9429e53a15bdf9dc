"""Double booking is impossible through real HTTP under concurrency, on the backend this run uses.

On PostgreSQL the server is gunicorn with 4 worker processes (and threads),
so only the database can keep two of them from booking the same time; on
SQLite it is a threaded server in this process, against the same file.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import date, timedelta

import pytest
from werkzeug.serving import make_server

from careplan import REPOSITORY
from careplan.extensions import db
from careplan.scheduling.models import Appointment
from tests import factories
from tests.conftest import ON_POSTGRES

REQUESTS = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory):
    """(base URL, what serves it): gunicorn processes on PostgreSQL, a threaded server on SQLite."""
    if ON_POSTGRES:
        instance = tmp_path_factory.mktemp("live-instance")
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "CAREPLAN_ENV": "testing"}
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "4", "--threads", "4", "--bind", f"127.0.0.1:{port}",
             "--graceful-timeout", "2", "--log-level", "warning", f"careplan:create_app(instance_path={str(instance)!r})"],
            cwd=REPOSITORY, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, process)
            yield url, "gunicorn"
        finally:
            process.terminate()
            process.wait(timeout=20)
        return
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", "threaded"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _post_all(url: str, bodies: list[dict], headers: list[dict]) -> list[tuple[int, dict]]:
    """Fire every request at the same moment (a barrier releases the threads together)."""
    barrier = threading.Barrier(len(bodies))
    answers: list[tuple[int, dict] | None] = [None] * len(bodies)

    def fire(i: int) -> None:
        request = urllib.request.Request(f"{url}/api/v1/appointments", data=json.dumps(bodies[i]).encode(),
                                         method="POST", headers={"Content-Type": "application/json", **headers[i]})
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers[i] = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as refused:
            answers[i] = (refused.code, json.loads(refused.read()))

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _next_monday() -> date:
    day = date.today() + timedelta(days=14)
    return day + timedelta(days=-day.weekday())


def _clinic(app, patients: int):
    with app.app_context():
        provider = factories.provider(hours="mon-fri 08:00-16:00")
        patient_ids = [factories.patient().id for _ in range(patients)]
        headers = factories.bearer(factories.user("front_desk"))
        return provider.id, patient_ids, headers


def _appointments(app) -> list[Appointment]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(Appointment)))
        db.session.remove()
        return rows


def test_twenty_concurrent_overlapping_bookings_give_one_201_and_nineteen_409(app, live_server):
    url, server = live_server
    with app.app_context():
        assert (db.engine.dialect.name, server) == (("postgresql", "gunicorn") if ON_POSTGRES else ("sqlite", "threaded"))
    provider_id, patient_ids, headers = _clinic(app, REQUESTS)
    monday = _next_monday().isoformat()
    # Different patients, starts 15 minutes apart within one hour: every pair of hour-long requests overlaps.
    bodies = [{"patient_id": patient_ids[i], "provider_id": provider_id, "discipline": "physiotherapy",
               "start": f"{monday}T09:{15 * (i % 4):02d}:00-05:00", "minutes": 60} for i in range(REQUESTS)]

    answers = _post_all(url, bodies, [headers] * REQUESTS)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (REQUESTS - 1), answers
    booked = next(answer for status, answer in answers if status == 201)
    refusals = [answer["error"] for status, answer in answers if status == 409]
    assert all(error["code"] == "conflict" for error in refusals)
    assert all(error["conflicting_appointment_ids"] in ([booked["id"]], []) for error in refusals)
    assert [row.id for row in _appointments(app)] == [booked["id"]]


def test_concurrent_retries_with_one_idempotency_key_book_once(app, live_server):
    url, _server = live_server
    provider_id, (patient_id,), headers = _clinic(app, 1)
    body = {"patient_id": patient_id, "provider_id": provider_id, "discipline": "physiotherapy",
            "start": f"{_next_monday().isoformat()}T10:00:00-05:00", "minutes": 45}
    retries = 8

    answers = _post_all(url, [body] * retries, [{**headers, "Idempotency-Key": "front-desk-42"}] * retries)

    assert {status for status, _ in answers} == {201}, answers
    assert len({json.dumps(answer, sort_keys=True) for _, answer in answers}) == 1
    assert len(_appointments(app)) == 1
