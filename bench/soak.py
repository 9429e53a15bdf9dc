"""Soak (issue 19): 16 clients on a realistic mix for 60 s against the app under gunicorn on PostgreSQL.

The data is the demo plus M scale (40 clinicians, 1,000 patients, 20,000 appointments, bench.service.fill), in a
new database `careplan_bench_soak` on the server of BENCH_DATABASE_URL (or TEST_DATABASE_URL), dropped
afterwards. gunicorn serves it on 127.0.0.1:$SOAK_PORT (5150) with the project's config/gunicorn.conf.py;
SOAK_CLIENTS threads (16) each keep one connection and draw requests from MIX for SOAK_SECONDS (60):
the desk's day page, a clinician's calendar feed, appointment reads, single bookings, moves and cancels of
what the soak booked, and a patient's own page. A 409 is an answer (two clients wanted the same time), so
is a booking's 422 for a time outside the clinician's hours; an error is a 5xx, any other status, or no
answer. Prints requests, errors (the goal: 0) and median / p95 ms per kind.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date, datetime, time as clock, timedelta
from pathlib import Path

from .service import DISCIPLINES, SCALES, database, fill, p95

REPOSITORY = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("SOAK_PORT", "5150"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "16"))
SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
# kind: (weight, statuses that are answers rather than errors)
MIX = {
    "desk day page": (14, {200}),
    "calendar feed": (8, {200}),
    "appointment read": (24, {200}),
    "appointments of a day (API)": (8, {200}),
    "patient portal": (14, {200}),
    "single booking": (16, {201, 409}),
    "move": (8, {200, 409}),
    "cancel": (8, {200, 409}),
}


class World:
    """What the clients share: tokens, the generated clinicians and patients, the appointments they booked."""

    def __init__(self, setup: dict):
        self.__dict__.update(setup)
        self.lock = threading.Lock()
        self.booked: list[int] = []
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.refused: dict[str, int] = defaultdict(int)

    def take(self) -> int | None:
        with self.lock:
            return self.booked.pop(random.randrange(len(self.booked))) if self.booked else None

    def give(self, appointment_id: int) -> None:
        with self.lock:
            self.booked.append(appointment_id)


def prepare(url: str, folder: str) -> dict:
    """The data, users and tokens, made in this process before the server starts."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from careplan import create_app
    from careplan.auth import service as auth
    from careplan.caller import Caller
    from careplan.clinic import service as clinic
    from careplan.demo import load_demo
    from careplan.extensions import db
    from careplan.fhir import feeds
    from careplan.patients.models import Patient
    from careplan.providers.models import Provider

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url}, instance_path=folder)
    with app.app_context():
        upgrade()
        today = datetime.now(clinic.zone()).date()
        load_demo(today)
        fill(*SCALES["M"], today)
        providers = [(p.id, DISCIPLINES[p.id % 4]) for p in db.session.scalars(
            select(Provider).where(Provider.email.like("%@bench.example")).order_by(Provider.id))]
        patients = list(db.session.scalars(select(Patient.id).where(Patient.email.like("%@bench.example"))
                                           .order_by(Patient.id)))
        desk = auth.create_user(email="soak-desk@bench.example", role="front_desk")
        desk_token = auth.issue_token(desk)
        patient_tokens = []
        for n, patient_id in enumerate(patients[:20]):
            user = auth.create_user(email=f"soak-patient{n}@bench.example", role="patient", patient_id=patient_id)
            patient_tokens.append(auth.issue_token(user))
        feed_tokens = [feeds.open_feed("provider", provider_id, caller=Caller(desk, "", "cli"))[1]
                       for provider_id, _ in providers[:10]]
        db.session.commit()
        zone = clinic.zone()
        db.session.remove()
        db.engine.dispose()
    return {"today": today, "zone": zone, "providers": providers, "patients": patients, "desk": desk_token,
            "patient_tokens": patient_tokens, "feed_tokens": feed_tokens}


def _future_start(world: World) -> datetime:
    """A weekday in the coming eight weeks, on the quarter hour between 10:00 and 17:45: the generated
    clinicians' appointments fill 08:00-10:00, so most of these are free unless another client took them."""
    while True:
        day = world.today + timedelta(days=random.randint(2, 56))
        if day.weekday() < 5:
            break
    minute = random.randrange(10 * 60, 17 * 60 + 46, 15)
    return datetime.combine(day, clock(minute // 60, minute % 60), tzinfo=world.zone)


def request_for(kind: str, world: World):
    """(method, path, body, bearer token, what to do with the answer) for one request of this kind, or None."""
    desk = world.desk
    if kind == "desk day page":
        day = world.today + timedelta(days=random.randint(-5, 20))
        return "GET", f"/desk/calendar?date={day.isoformat()}", None, desk, None
    if kind == "calendar feed":
        return "GET", f"/calendar/{random.choice(world.feed_tokens)}.ics", None, None, None
    if kind == "appointments of a day (API)":
        start = datetime.combine(world.today + timedelta(days=random.randint(0, 20)), clock(0), tzinfo=world.zone)
        query = f"from={start.isoformat()}&to={(start + timedelta(days=1)).isoformat()}&page_size=50"
        return "GET", "/api/v1/appointments?" + query.replace("+", "%2B"), None, desk, None
    if kind == "patient portal":
        return "GET", "/my/appointments", None, random.choice(world.patient_tokens), None
    if kind == "appointment read":
        with world.lock:
            known = random.choice(world.booked) if world.booked and random.random() < 0.5 else None
        return "GET", f"/api/v1/appointments/{known or random.randint(1, 20_000)}", None, desk, None
    if kind == "single booking":
        provider_id, discipline = random.choice(world.providers)
        body = {"patient_id": random.choice(world.patients), "provider_id": provider_id, "discipline": discipline,
                "start": _future_start(world).isoformat(), "minutes": 45}

        def keep(status, answer):
            if status == 201:
                world.give(answer["id"])
        return "POST", "/api/v1/appointments", body, desk, keep
    appointment_id = world.take()
    if appointment_id is None:
        return None
    if kind == "move":
        body = {"start": _future_start(world).isoformat()}
    else:
        body = {"status": "cancelled", "reason": "soak: the patient cannot come"}

    def put_back(status, answer):
        if kind == "move" or status != 200:
            world.give(appointment_id)
    return "PATCH", f"/api/v1/appointments/{appointment_id}", body, desk, put_back


def client(world: World, until: float, seed: int) -> None:
    random.seed(seed)
    kinds = list(MIX)
    weights = [MIX[k][0] for k in kinds]
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    while time.monotonic() < until:
        kind = random.choices(kinds, weights)[0]
        planned = request_for(kind, world)
        if planned is None:
            continue
        method, path, body, token, then = planned
        headers = {"X-Request-ID": f"soak-{seed}-{random.getrandbits(32):08x}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            with world.lock:
                world.errors[kind].append(f"{method} {path}: {type(exc).__name__}: {exc}")
            continue
        elapsed = (time.perf_counter() - started) * 1000
        with world.lock:
            world.times[kind].append(elapsed)
            if status not in MIX[kind][1]:
                world.errors[kind].append(f"{method} {path} -> {status}: {data[:300]!r}")
            elif status >= 400:
                world.refused[kind] += 1
        if then is not None:
            then(status, json.loads(data) if status < 400 and data else None)
    connection.close()


def _serve(url: str, folder: str, log) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "CAREPLAN_ENV": "development", "JOBS_PER_PROCESS": "0",
           "MAIL_BACKEND": "locmem", "LOG_LEVEL": "WARNING", "PORT": str(PORT)}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py", "--bind",
         f"127.0.0.1:{PORT}", "--workers", os.environ.get("SOAK_WORKERS", "3"), "--threads", "6",
         "--access-logfile", "/dev/null", "wsgi:app"],
        cwd=REPOSITORY, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start (see {log.name})")
        try:
            with socket.create_connection(("127.0.0.1", PORT), timeout=1):
                connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def main() -> None:
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        print("\nSoak: left out, it needs PostgreSQL (BENCH_DATABASE_URL=postgresql+psycopg://...).")
        return
    os.environ["BENCH_DATABASE_URL"] = base
    with tempfile.TemporaryDirectory() as folder, database("soak", folder) as url:
        started = time.perf_counter()
        world = World(prepare(url, folder))
        print(f"  soak: M-scale data ready ({time.perf_counter() - started:.0f} s); {CLIENTS} clients for "
              f"{SECONDS:.0f} s on 127.0.0.1:{PORT}", flush=True)
        log_path = Path(folder) / "gunicorn.log"
        with open(log_path, "w") as log:
            server = _serve(url, folder, log)
            try:
                until = time.monotonic() + SECONDS
                threads = [threading.Thread(target=client, args=(world, until, n)) for n in range(CLIENTS)]
                began = time.perf_counter()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                wall = time.perf_counter() - began
            finally:
                server.terminate()
                server.wait(timeout=30)
        load = os.getloadavg()
        total = sum(len(v) for v in world.times.values())
        errors = sum(len(v) for v in world.errors.values())
        print(f"\nSoak: {CLIENTS} clients, {wall:.0f} s, gunicorn {os.environ.get('SOAK_WORKERS', '3')} workers x 6 "
              f"threads, PostgreSQL, M scale; load {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")
        print(f"  {total} requests ({total / wall:.0f}/s), {errors} errors")
        print(f"  {'kind':30}{'requests':>10}{'409/422':>9}{'errors':>8}{'median ms':>11}{'p95 ms':>9}")
        for kind in MIX:
            times = world.times.get(kind, [])
            cells = (f"{statistics.median(times):.0f}", f"{p95(times):.0f}") if times else ("-", "-")
            print(f"  {kind:30}{len(times):>10}{world.refused.get(kind, 0):>9}{len(world.errors.get(kind, [])):>8}"
                  f"{cells[0]:>11}{cells[1]:>9}")
        for kind, seen in world.errors.items():
            for line in seen[:3]:
                print(f"  error ({kind}): {line}")
        if errors:
            tail = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
            print("  the server's log, last lines:\n" + tail)
