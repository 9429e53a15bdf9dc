"""Solve jobs on real worker processes (`flask --app wsgi worker`): two workers never run one job twice, and a
job whose worker is killed (SIGKILL, mid-solve) is finished by the other once the lease runs out, holding
its slots once. On PostgreSQL the claim is `FOR UPDATE SKIP LOCKED`; on SQLite the conditional UPDATE."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from careplan.audit.models import AuditEvent
from careplan.extensions import db
from careplan.jobs import service as jobs
from careplan.jobs.models import SolveJob
from careplan.proposals.models import HeldSlot, Proposal
from tests import factories
from tests.jobs.test_jobs import FAST, _draft_plan, _job, _long_batch, _wait_for
from tests.reminders.test_dispatch import REPOSITORY, subprocess_env

WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]


def _worker(app, **settings) -> subprocess.Popen:
    env = subprocess_env(app, JOBS_PER_PROCESS="1", JOB_POLL_SECONDS="0.1", **settings)
    return subprocess.Popen(WORKER, cwd=REPOSITORY, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            text=True)


def _stop(*workers: subprocess.Popen) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _plan_of_its_own() -> int:
    """A draft plan only its own clinician may deliver (required): two jobs solving at once never want the
    same time, so each finishes on its first solve, whichever worker runs it."""
    from careplan.plans.models import CarePlan

    plan_id = _draft_plan()
    for member in db.session.get(CarePlan, plan_id).care_team:
        member.required = True
    db.session.commit()
    return plan_id


def _states(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(select(SolveJob.id, SolveJob.state)).all())


def test_two_workers_never_run_one_job_twice(app):
    with app.app_context():
        plans = [_plan_of_its_own() for _ in range(8)]
        queued = [jobs.submit_proposal(plan_id, dict(FAST), caller=factories.CALLER).id for plan_id in plans]
        db.session.remove()
    workers = [_worker(app), _worker(app)]
    try:
        _wait_for(lambda: set(_states(app).values()) == {"done"}, seconds=120, every=0.2)
    finally:
        _stop(*workers)
    with app.app_context():
        rows = list(db.session.scalars(select(SolveJob).order_by(SolveJob.id)))
        assert [r.id for r in rows] == queued
        assert [r.attempts for r in rows] == [1] * 8, "a job was claimed twice"
        # Two workers finish in either order: each job made one proposal, and no two jobs made the same one.
        assert [len(r.result["proposal_ids"]) for r in rows] == [1] * 8
        assert sorted(r.result["proposal_ids"][0] for r in rows) == list(range(1, 9))
        # One proposal per plan, each written once (and audited once, by its worker for its desk).
        per_plan = dict(db.session.execute(select(Proposal.plan_id, func.count()).group_by(Proposal.plan_id)).all())
        assert per_plan == {plan_id: 1 for plan_id in plans}
        made = list(db.session.scalars(select(AuditEvent).where(AuditEvent.resource == "proposal",
                                                                AuditEvent.action == "create")))
        assert len(made) == 8 and {event.origin for event in made} == {"worker"}


def test_a_killed_workers_job_is_finished_by_the_other(app):
    job_id = _long_batch(app, 8.0, patients=6)
    doomed = _worker(app, JOB_LEASE_SECONDS="2")
    other = None
    try:
        _wait_for(lambda: _job(app, job_id).progress.get("scheduled"), seconds=60)
        first = _job(app, job_id)
        assert first.state == "running" and first.attempts == 1
        other = _worker(app, JOB_LEASE_SECONDS="2")
        time.sleep(1.0)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        assert doomed.returncode == -signal.SIGKILL
        _wait_for(lambda: _job(app, job_id).state in ("done", "failed", "cancelled"), seconds=60, every=0.2)
    finally:
        _stop(*(w for w in (doomed, other) if w is not None))
    job = _job(app, job_id)
    assert job.state == "done", job.error
    assert job.attempts == 2 and job.lease_owner is None and job.lease_owner != first.lease_owner
    with app.app_context():
        live = list(db.session.scalars(select(Proposal).where(Proposal.status == "live")))
        assert sorted(p.id for p in live) == sorted(job.result["proposal_ids"]) and len(live) == 6
        # Held once: the killed worker wrote nothing, the other wrote each plan's holds once.
        held = db.session.scalar(select(func.count()).select_from(HeldSlot))
        assert held == sum(p.metrics["scheduled"] for p in live) == job.progress["scheduled"]
