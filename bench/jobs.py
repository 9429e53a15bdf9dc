"""Benchmark of the service while the optimizer works (`python -m bench jobs`): issue 16's figure.

The service is run as in production, in its own processes: on SQLite the embedded default (`make run`:
gunicorn, one process of 8 threads, the solve jobs run inside it beside the reminder scheduler), on the
PostgreSQL of BENCH_DATABASE_URL gunicorn (2 processes of 4 threads) beside two `flask worker` processes
(two solves each). Two clients then call, one after the other, the front desk's day page
(`GET /desk/calendar`), an appointment (`GET /api/v1/appointments/<id>`) and a booking
(`POST /api/v1/appointments`): first with nothing solving (idle), then while four solve jobs run at once
(four batch intakes of six plans each, 15 s each, each section of the clinic its own clinicians so that
none conflicts with another, nor with the bookings). Reported: p50, p95 and the worst of each request, failures, the busy p95
against the idle one (issue 16's target: within 1.5x, none failing), and each job's time taken against its
limit (its target: the limit plus one second).
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import json
from datetime import date, datetime, time as clock, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPOSITORY = Path(__file__).resolve().parents[1]
JOBS = 4
PLANS_PER_JOB = 6
SOLVE_SECONDS = 15.0
IDLE_SECONDS = 12.0
CLIENTS = 2
TARGET_RATIO = 1.5
# Each job's section of the clinic (its plans' two disciplines and their clinicians), and the discipline the
# clients book: no solve competes with another's or with the bookings for a clinician, so the figures are the
# service's speed, not conflicts (a conflict is solved again or reported; tests/jobs covers it).
SECTIONS = (("physiotherapy", "massage"), ("chiropractic", "kinesiology"), ("psychotherapy", "nutrition"),
            ("acupuncture", "naturopathy"))
BOOKED = "mental_performance"


# --- the clinic ---------------------------------------------------------------------------------------------

def _windows(spec: str) -> list[dict]:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    rows = []
    for part in spec.split(","):
        which, hours = part.split()
        start, end = hours.split("-")
        first, _, last = which.partition("-")
        chosen = days[days.index(first): days.index(last or first) + 1]
        rows += [{"day": days.index(d), "start": clock.fromisoformat(start), "end": clock.fromisoformat(end)}
                 for d in chosen]
    return rows


def _seed(url: str) -> dict:
    """Four sections of the clinic (3 physiotherapists, 2 massage therapists, 6 patients with a draft plan
    each), a clinician and patient for the bookings, a front desk's token."""
    from careplan import create_app
    from careplan.auth import service as accounts
    from careplan.caller import Caller
    from careplan.extensions import db
    from careplan.patients.service import create_patient
    from careplan.plans.models import CarePlan, CareTeamMember, Phase, SessionLine
    from careplan.providers.service import create_provider
    from careplan.scheduling.models import Appointment
    from flask_migrate import upgrade

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "SCHEDULER_IN_PROCESS": False})
    caller = Caller.system("cli")
    numbers = iter(range(1, 10_000))
    today = date.today()
    start = today + timedelta(days=14 - today.weekday())

    def provider(discipline: str, hours: str) -> int:
        n = next(numbers)
        return create_provider({"name": f"Clinician {n}", "email": f"c{n}@bench.example",
                                "discipline_codes": [discipline], "availability": _windows(hours)}).id

    def patient(hours: str) -> int:
        n = next(numbers)
        return create_patient({"name": f"Patient {n}", "email": f"p{n}@bench.example", "phone": f"416-555-{n:04d}",
                               "date_of_birth": date(1960, 1, 1) + timedelta(days=n),
                               "availability": _windows(hours)}, caller=caller).id

    with app.app_context():
        upgrade(directory=str(REPOSITORY / "migrations"))
        windows = ("mon-fri 08:00-11:00", "mon-fri 14:00-18:00", "tue 09:00-17:00, thu 09:00-17:00",
                   "mon 10:00-16:00, wed 10:00-16:00, fri 10:00-16:00")
        sections = []
        for first, second in SECTIONS:
            physios = [provider(first, h) for h in ("mon-fri 08:00-12:00", "mon-wed 12:00-18:00",
                                                    "thu-fri 09:00-17:00")]
            massage = [provider(second, h) for h in ("mon-fri 09:00-13:00", "tue-thu 14:00-18:00")]
            plans = []
            for i in range(PLANS_PER_JOB):
                plan = CarePlan(patient_id=patient(windows[i % 4]), status="draft", region="lumbar",
                                severity="moderate", start_date=start, assessment_discipline=first,
                                assessment_minutes=60,
                                care_team=[CareTeamMember(discipline_code=first, provider_id=physios[i % 3]),
                                           CareTeamMember(discipline_code=second, provider_id=massage[i % 2])],
                                phases=[Phase(position=p, name=name, weeks=4, purpose=name,
                                              lines=[SessionLine(discipline_code=first, per_week=2, minutes=45),
                                                     SessionLine(discipline_code=second, per_week=1, minutes=60)])
                                        for p, name in ((1, "acute"), (2, "subacute"))])
                db.session.add(plan)
                db.session.commit()
                plans.append(plan.id)
            sections.append(plans)
        desk_physio = provider(BOOKED, "mon-fri 08:00-18:00")
        booker = patient("mon-fri 08:00-18:00")
        zone = ZoneInfo(app.config["CLINIC_TIMEZONE"])
        seen = datetime.combine(today + timedelta(days=1), clock(12), tzinfo=zone)
        row = Appointment(patient_id=booker, provider_id=desk_physio, discipline_code=BOOKED,
                          starts_at=seen, ends_at=seen + timedelta(minutes=45))
        db.session.add(row)
        desk = accounts.create_user(email="desk@bench.example", role="front_desk", password=None)
        token = accounts.issue_token(desk, name="bench")
        db.session.commit()
        seeded = {"sections": sections, "physio": desk_physio, "patient": booker, "appointment": row.id,
                  "token": token, "zone": app.config["CLINIC_TIMEZONE"]}
        db.session.remove()
        db.engine.dispose()
    return seeded


# --- the service's processes --------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(url: str, *, web_processes: int, threads: int, in_process_jobs: int, workers: int):
    port = _free_port()
    env = {**os.environ, "CAREPLAN_ENV": "development", "DATABASE_URL": url, "PORT": str(port),
           "JOBS_PER_PROCESS": str(in_process_jobs), "LOG_LEVEL": "WARNING"}
    gunicorn = str(REPOSITORY / ".venv" / "bin" / "gunicorn")
    processes = [subprocess.Popen([gunicorn, "-c", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                                   "--workers", str(web_processes), "--threads", str(threads), "wsgi:app"],
                                  cwd=REPOSITORY, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    for _ in range(workers):
        processes.append(subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=REPOSITORY,
                                          env={**env, "JOBS_PER_PROCESS": "2"}, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return base, processes
        except OSError:
            time.sleep(0.1)
    _stop(processes)
    raise RuntimeError("the service did not start")


def _stop(processes) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            process.kill()


# --- the clients --------------------------------------------------------------------------------------------

class Clients:
    def __init__(self, base: str, seeded: dict):
        self.base = base
        self.seeded = seeded
        self.headers = {"Authorization": f"Bearer {seeded['token']}", "Content-Type": "application/json"}
        self.lock = threading.Lock()
        self.slot = 0
        zone = ZoneInfo(seeded["zone"])
        self.weekdays = [d for d in (date.today() + timedelta(days=k) for k in range(60, 400)) if d.weekday() < 5]
        self.zone = zone
        self.day = (date.today() + timedelta(days=1)).isoformat()

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, float, dict | None]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=self.headers)
        began = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw, status = response.read(), response.status
        except urllib.error.HTTPError as answered:
            raw, status = answered.read(), answered.code
        except OSError:
            return 0, time.perf_counter() - began, None
        took = time.perf_counter() - began
        try:
            return status, took, json.loads(raw) if raw and raw[:1] in (b"{", b"[") else None
        except ValueError:
            return status, took, None

    def _next_slot(self) -> str:
        with self.lock:
            n, self.slot = self.slot, self.slot + 1
        moment = datetime.combine(self.weekdays[n // 40], clock(8), tzinfo=self.zone) + timedelta(minutes=15 * (n % 40))
        return moment.isoformat()

    def one_round(self, samples: dict) -> None:
        for name, method, path, body in (
                ("day page", "GET", f"/desk/calendar?date={self.day}", None),
                ("appointment read", "GET", f"/api/v1/appointments/{self.seeded['appointment']}", None),
                ("booking", "POST", "/api/v1/appointments",
                 {"patient_id": self.seeded["patient"], "provider_id": self.seeded["physio"],
                  "discipline": BOOKED, "minutes": 15, "start": self._next_slot()})):
            status, took, _ = self.call(method, path, body)
            with self.lock:
                samples.setdefault(name, []).append((status, took))

    def load(self, until) -> dict:
        samples: dict = {}

        def client():
            while not until():
                self.one_round(samples)

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return samples


def _p(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _measure(label: str, url: str, **shape) -> list[tuple]:
    seeded = _seed(url)
    base, processes = _start(url, **shape)
    rows = []
    try:
        clients = Clients(base, seeded)
        clients.load(lambda started=time.monotonic(): time.monotonic() - started > 2)  # warm up
        began = time.monotonic()
        idle = clients.load(lambda: time.monotonic() - began > IDLE_SECONDS)
        submitted = []
        for plans in seeded["sections"]:
            status, took, job = clients.call("POST", "/api/v1/batch-intakes",
                                             {"plan_ids": plans, "time_limit": SOLVE_SECONDS})
            assert status == 202, (status, job)
            submitted.append((job["id"], took))
        ended = threading.Event()
        states: dict[int, dict] = {}

        def watch():
            while len(states) < len(submitted):
                for job_id, _ in submitted:
                    status, _, job = clients.call("GET", f"/api/v1/jobs/{job_id}")
                    if status == 200 and job["state"] in ("done", "failed", "cancelled"):
                        states[job_id] = job
                time.sleep(0.5)
            ended.set()

        watcher = threading.Thread(target=watch)
        watcher.start()
        busy = clients.load(ended.is_set)
        watcher.join()
        for name in ("day page", "appointment read", "booking"):
            quiet = [t for s, t in idle[name] if 200 <= s < 300]
            loaded = [t for s, t in busy[name] if 200 <= s < 300]
            failed = sum(1 for s, _ in busy[name] if not 200 <= s < 300) + \
                sum(1 for s, _ in idle[name] if not 200 <= s < 300)
            rows.append((label, name, len(idle[name]), _p(quiet, 50) * 1000, _p(quiet, 95) * 1000,
                         len(busy[name]), _p(loaded, 50) * 1000, _p(loaded, 95) * 1000, max(loaded) * 1000,
                         failed))
        jobs = []
        for job_id, post_seconds in submitted:
            job = states[job_id]
            taken = (datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"]))
            waited = (datetime.fromisoformat(job["started_at"]) - datetime.fromisoformat(job["created_at"]))
            spent = job["progress"].get("seconds", {})
            jobs.append((label, job_id, job["state"], post_seconds * 1000, waited.total_seconds(),
                         job["time_limit"], taken.total_seconds(), spent.get("read", 0.0), spent.get("solve", 0.0),
                         spent.get("write", 0.0), job["progress"].get("scheduled"), job["progress"].get("demand")))
        return rows, jobs
    finally:
        _stop(processes)


def _postgres() -> tuple[str, str] | None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        return None
    import psycopg
    from sqlalchemy import make_url

    server = make_url(url)
    name = f"careplan_bench_service_{secrets.token_hex(3)}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.set(database=name).render_as_string(hide_password=False), admin


def main(only: str | None = None) -> None:
    """Both backends (PostgreSQL when BENCH_DATABASE_URL is set), or `only` "sqlite" or "postgresql"."""
    print(f"\nService while the optimizer works: {JOBS} solve jobs at once (batch intakes of {PLANS_PER_JOB} plans, "
          f"{SOLVE_SECONDS:g} s each), {CLIENTS} clients calling one after the other")
    results, jobs = [], []
    if only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as work:
            rows, ran = _measure("sqlite (make run: 1 process, jobs in it)", f"sqlite:///{Path(work) / 'bench.db'}",
                                 web_processes=1, threads=8, in_process_jobs=2, workers=0)
            results += rows
            jobs += ran
    made = _postgres() if only in (None, "postgresql") else None
    if made is None:
        if only != "sqlite":
            print("BENCH_DATABASE_URL is not set: the PostgreSQL run is left out.")
    else:
        url, admin = made
        try:
            rows, ran = _measure("postgresql (2 web + 2 workers)", url, web_processes=2, threads=4,
                                 in_process_jobs=0, workers=2)
            results += rows
            jobs += ran
        finally:
            import psycopg

            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    print(f"\n{'backend':<42} {'request':<17} {'idle n':>6} {'p50 ms':>7} {'p95 ms':>7} {'busy n':>6} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'fail':>4} {'p95 x':>6}")
    print("-" * 124)
    for label, name, n_idle, p50_idle, p95_idle, n_busy, p50_busy, p95_busy, worst, failed in results:
        ratio = p95_busy / p95_idle if p95_idle else 0.0
        mark = "" if ratio <= TARGET_RATIO and not failed else "  over target"
        print(f"{label:<42} {name:<17} {n_idle:>6} {p50_idle:>7.1f} {p95_idle:>7.1f} {n_busy:>6} {p50_busy:>7.1f} "
              f"{p95_busy:>7.1f} {worst:>7.1f} {failed:>4} {ratio:>6.2f}{mark}")
    print(f"\n{'backend':<42} {'job':>4} {'state':<9} {'POST ms':>8} {'queued s':>9} {'limit s':>8} {'taken s':>8} "
          f"{'read':>6} {'solve':>6} {'write':>6} {'placed':>11}")
    print("-" * 127)
    for label, job_id, state, post_ms, waited, limit, taken, read, solve, write, placed, demand in jobs:
        mark = "" if taken <= limit + 1.0 else "  over limit + 1 s"
        print(f"{label:<42} {job_id:>4} {state:<9} {post_ms:>8.1f} {waited:>9.1f} {limit:>8.1f} {taken:>8.2f} "
              f"{read:>6.2f} {solve:>6.2f} {write:>6.2f} {placed:>5}/{demand:<5}{mark}")


if __name__ == "__main__":
    main()
