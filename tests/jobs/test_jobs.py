"""Solving as a job: the API answers 202 at once, a worker solves with no transaction open, the job shows the
optimizer's own progress, a cancel stops the search within about a second, the time asked is the time taken,
and other requests neither fail nor wait while it solves."""
from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from careplan.extensions import db
from careplan.jobs import service as jobs
from careplan.jobs.models import SolveJob
from careplan.jobs.runner import Runners, run_pending
from careplan.proposals.models import HeldSlot, Proposal
from tests import factories

FAST = {"time_limit": 1.0, "deterministic": True}
MONDAY = date(2027, 3, 1)
TORONTO = ZoneInfo("America/Toronto")


def _draft_plan() -> int:
    physio = factories.provider()
    return factories.care_plan(factories.patient(), {"physiotherapy": physio}, start=MONDAY, status="draft").id


def _job(app, job_id: int) -> SolveJob:
    with app.app_context():
        job = db.session.get(SolveJob, job_id)
        db.session.expunge(job)
        return job


def _wait_for(condition, seconds: float = 30.0, every: float = 0.05):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("waited in vain")


def _in_thread(app, target) -> threading.Thread:
    def run():
        with app.app_context():
            target()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _long_batch(app, seconds: float, patients: int = 8) -> int:
    """A batch intake job that keeps the optimizer busy for `seconds` (set on the row: the testing
    configuration caps what the API may ask)."""
    with app.app_context():
        plans = factories.busy_clinic(patients)
        job = jobs.submit_batch(plans, {}, caller=factories.CALLER)
        job.time_limit = seconds
        db.session.commit()
        return job.id


def test_a_proposal_answers_202_and_its_job_ends_with_the_proposal_and_the_optimizers_figures(
        app, client, auth, run_jobs):
    desk = auth("front_desk")
    with app.app_context():
        plan_id = _draft_plan()
    made = client.post(f"/api/v1/plans/{plan_id}/proposals", json=FAST, headers=desk)
    assert made.status_code == 202, made.get_json()
    job = made.get_json()
    assert made.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert job["state"] == "queued" and job["plan_id"] == plan_id and job["links"]["cancel"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Proposal)) == 0
    assert run_jobs() == [job["id"]]
    done = client.get(made.headers["Location"], headers=desk).get_json()
    assert done["state"] == "done" and done["error"] is None and "cancel" not in done["links"]
    assert done["progress"]["scheduled"] == done["progress"]["demand"] == 4
    assert done["progress"]["visits"] == 4 and done["progress"]["elapsed"] > 0
    [link] = done["links"]["proposals"]
    proposal = client.get(link, headers=desk).get_json()
    assert proposal["status"] == "live" and len(proposal["appointments"]) == 4
    assert done["result"]["proposal_ids"] == [proposal["id"]]


def test_what_a_solve_would_refuse_is_refused_at_once_and_queues_nothing(app, client, auth):
    desk = auth("front_desk")
    with app.app_context():
        booked = factories.care_plan(factories.patient(), {"physiotherapy": factories.provider()}, start=MONDAY).id
        draft = _draft_plan()
    assert client.post(f"/api/v1/plans/{booked}/proposals", json=FAST, headers=desk).status_code == 409
    assert client.post("/api/v1/plans/999999/proposals", json=FAST, headers=desk).status_code == 404
    refused = client.post(f"/api/v1/plans/{draft}/proposals", headers=desk,
                          json={**FAST, "preferred_providers": {"physiotherapy": 999999}})
    assert refused.status_code == 422 and "preferred_providers.physiotherapy" in refused.get_json()["error"]["fields"]
    too_long = client.post("/api/v1/batch-intakes", headers=desk, json={"plan_ids": [draft], "time_limit": 500})
    assert too_long.status_code == 422 and "time_limit" in too_long.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SolveJob)) == 0


def test_a_required_clinician_gone_is_refused_at_submission_and_the_problem_is_built_once_by_the_worker(
        app, client, auth, run_jobs, monkeypatch):
    from careplan.plans.models import CarePlan
    from careplan.proposals import service as proposals
    from careplan.providers.models import Provider

    desk = auth("front_desk")
    with app.app_context():
        gone, kept = _draft_plan(), _draft_plan()
        plan = db.session.get(CarePlan, gone)
        plan.care_team[0].required = True
        db.session.get(Provider, plan.care_team[0].provider_id).active = False
        db.session.commit()
    refused = client.post(f"/api/v1/plans/{gone}/proposals", json=FAST, headers=desk)
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["fields"] == {"care_team.physiotherapy": "required provider is not available"}
    refused = client.post("/api/v1/batch-intakes", json={"plan_ids": [kept, gone], **FAST}, headers=desk)
    assert refused.status_code == 422 and "care_team.physiotherapy" in refused.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SolveJob)) == 0

    # Submitting reads the plan and its clinicians only; the worker builds the problem, once.
    built = []
    real = proposals.build_problem
    monkeypatch.setattr(proposals, "build_problem", lambda *a, **k: built.append(1) or real(*a, **k))
    made = client.post(f"/api/v1/plans/{kept}/proposals", json=FAST, headers=desk)
    assert made.status_code == 202 and built == []
    assert run_jobs() == [made.get_json()["id"]] and built == [1]
    assert client.get(made.headers["Location"], headers=desk).get_json()["state"] == "done"


def test_a_queued_job_is_cancelled_at_once_and_an_ended_one_answers_409(app, client, auth, run_jobs):
    desk = auth("front_desk")
    with app.app_context():
        plan_id = _draft_plan()
    made = client.post(f"/api/v1/plans/{plan_id}/proposals", json=FAST, headers=desk)
    cancelled = client.post(f"/api/v1/jobs/{made.get_json()['id']}/cancel", headers=desk)
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    assert run_jobs() == []
    again = client.post(f"/api/v1/jobs/{made.get_json()['id']}/cancel", headers=desk)
    assert again.status_code == 409 and again.get_json()["error"]["fields"] == {"state": "cancelled"}
    assert client.get("/api/v1/jobs/999999", headers=desk).status_code == 404


def test_a_batch_intake_proposes_every_plan_without_one_taking_anothers_slot(app, client, auth, solved):
    desk = auth("front_desk")
    with app.app_context():
        plans = factories.busy_clinic(4, weeks=2)
    job = solved(client.post("/api/v1/batch-intakes", headers=desk, json={"plan_ids": plans, "time_limit": 2}), desk)
    assert job["state"] == "done" and job["kind"] == "batch_intake" and len(job["result"]["proposal_ids"]) == 4
    with app.app_context():
        made = list(db.session.scalars(select(Proposal).order_by(Proposal.plan_id)))
        assert [p.plan_id for p in made] == sorted(plans) and {p.status for p in made} == {"live"}
        holds = list(db.session.scalars(select(HeldSlot)))
        for a in holds:
            for b in holds:
                if a.id < b.id and (a.provider_id == b.provider_id or a.patient_id == b.patient_id):
                    assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), (a.id, b.id)
        # Each proposal's figures are its own plan's.
        assert all(p.metrics["scheduled"] == len(p.holds) for p in made)


def test_cancel_stops_a_running_solve_within_a_second_and_holds_nothing(app, client, auth):
    desk = auth("front_desk")
    job_id = _long_batch(app, 30.0)
    worker = _in_thread(app, run_pending)
    _wait_for(lambda: _job(app, job_id).progress.get("scheduled"))
    asked = time.monotonic()
    answer = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=desk)
    assert answer.status_code == 200 and answer.get_json()["cancel_requested"] is True
    worker.join(10)
    stopped = time.monotonic() - asked
    assert not worker.is_alive()
    job = _job(app, job_id)
    assert job.state == "cancelled" and job.result is None
    assert stopped < 1.5, f"the solve went on {stopped:.2f} s after the cancel"
    assert (job.finished_at - job.started_at).total_seconds() < 10
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_the_time_asked_is_the_time_taken(app):
    job_id = _long_batch(app, 4.0)
    with app.app_context():
        run_pending()
    job = _job(app, job_id)
    took = (job.finished_at - job.started_at).total_seconds()
    assert job.state == "done", job.error
    # The figure: 10 s asked, 18.3 s taken. Now within the limit plus one second.
    assert took <= 4.0 + 1.0, f"{took:.2f} s for a 4 s limit"
    assert job.progress["scheduled"] == job.progress["demand"]


def test_other_requests_neither_fail_nor_wait_while_a_job_solves(app, client, auth):
    """A batch solves for eight seconds on a runner thread of this process (as under `make run`: its solver in a
    child process) while the front desk reads the day, reads appointments and books: every answer is a
    success, and none waits for the solve."""
    desk = auth("front_desk")
    job_id = _long_batch(app, 8.0, patients=6)
    with app.app_context():
        physio = factories.provider(hours="mon-fri 08:00-18:00")
        someone = factories.patient(hours="mon-fri 08:00-18:00")
        existing = factories.appointment(someone, physio, days_ahead=3).id
        physio_id, someone_id = physio.id, someone.id
    runners = Runners(app, 1, 0.05, in_child=True).start()
    _wait_for(lambda: _job(app, job_id).state == "running")
    day = date.today() + timedelta(days=3)
    weekdays = [d for d in (date.today() + timedelta(days=k) for k in range(60, 120)) if d.weekday() < 5]

    def slot(n: int) -> str:
        moment = datetime.combine(weekdays[n // 40], clock(8), tzinfo=TORONTO) + timedelta(minutes=15 * (n % 40))
        return moment.isoformat()

    slowest, calls, booked = 0.0, 0, 0
    while _job(app, job_id).state == "running":
        for method, url, body in (
                ("get", f"/api/v1/appointments/{existing}", None),
                ("get", f"/api/v1/calendar/day?date={day.isoformat()}", None),
                ("post", "/api/v1/appointments", {"patient_id": someone_id, "provider_id": physio_id,
                                                  "discipline": "physiotherapy", "minutes": 15,
                                                  "start": slot(booked)})):
            began = time.monotonic()
            answer = getattr(client, method)(url, headers=desk, **({"json": body} if body else {}))
            took = time.monotonic() - began
            assert answer.status_code < 300, (url, answer.status_code, answer.get_data(as_text=True)[:200])
            slowest, calls = max(slowest, took), calls + 1
            booked += method == "post"
    runners.stop(10)
    assert _job(app, job_id).state == "done"
    assert calls >= 9 and booked >= 3
    print(f"slowest of {calls} requests while the job solved: {slowest * 1000:.0f} ms")
    # Before jobs, a request behind a solve waited for all of it (a 15 s proposal held /healthz 14.9 s).
    # Far less than the solve's eight seconds, with room for a busy shared machine.
    assert slowest < 3.0, f"a request took {slowest:.2f} s while the job solved for 8 s"
