"""Running solve jobs on any worker.

A worker claims the oldest queued job (or a running one whose lease ran out: its worker died) in one short
transaction: on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED` so workers never wait on each other's
candidates, on both a conditional UPDATE (`WHERE state = 'queued' OR lease expired`) whose row count says
whether this worker won, so two workers never run one job. Then:

1. read: the problem, in one short transaction (`prepare_*` of careplan.proposals.service), then none open;
2. solve: the optimizer with no session or transaction open at all, under an Observer (careplan.optimizer)
   whose progress a heartbeat thread writes to the job row at most twice a second, in its own short
   transactions, renewing the lease and reading whether the job was cancelled (the observer then stops
   CP-SAT's search within about a second);
3. write: one short transaction that re-checks the calendar (`finish`), writes the proposal and marks the
   job done, only if this worker still holds the job; a calendar that changed meanwhile is solved again once
   (in what is left of the time), else the job fails saying why. Never a double hold.

The job finishes within its time limit plus about half a second from the moment it was claimed.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta
from functools import partial

from flask import current_app
from sqlalchemy import or_, select, update

from careplan.auth.models import User
from careplan.caller import Caller
from careplan.db import reading, utcnow
from careplan.errors import Conflict, ServiceError, error_body
from careplan.extensions import db
from careplan.jobs.models import SolveJob
from careplan.optimizer import Observer, solve as optimizer_solve
from careplan.optimizer.process import SolverProcess, lower_priority
from careplan.proposals import service as proposals
from careplan.proposals.schemas import ProposalRequestSchema, ReplanRequestSchema
from careplan.caller import worker_name

log = logging.getLogger(__name__)

# Kept from the time limit for writing the result (the optimizer keeps its own share for explaining and
# checking the schedule).
WRITE_RESERVE = 0.3
WRITE_PER_PLAN = 0.1
# Kept, from a limit of RESOLVE_FROM seconds or more, for solving again once should the calendar change under
# the first solve (another desk's proposal held the same slots): a fifth of the limit, at most 3 s.
RESOLVE_SHARE, RESOLVE_MOST, RESOLVE_FROM = 0.2, 3.0, 4.0
# The heartbeat's beat: progress written and cancellation read at most this often.
BEAT_SECONDS = 0.5


class Cancelled(Exception):
    pass


class LostLease(Exception):
    pass


# --- claiming -----------------------------------------------------------------------------------------

def _claimable(now: datetime):
    return or_(SolveJob.state == "queued",
               (SolveJob.state == "running") & (SolveJob.lease_expires_at <= now))


def claim(owner: str, *, now: datetime | None = None) -> int | None:
    """The id of the job this worker now runs, or None when there is none to run."""
    now = now or utcnow()
    lease = timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    candidates = list(db.session.scalars(
        select(SolveJob.id).where(_claimable(now)).order_by(SolveJob.created_at, SolveJob.id).limit(5)
        .with_for_update(skip_locked=True)))
    for job_id in candidates:
        won = db.session.execute(
            update(SolveJob).where(SolveJob.id == job_id, _claimable(now))
            .values(state="running", lease_owner=owner, lease_expires_at=now + lease, started_at=now,
                    attempts=SolveJob.attempts + 1)
            .execution_options(synchronize_session=False))
        if won.rowcount == 1:
            db.session.commit()
            return job_id
    db.session.commit()
    return None


def _settle(job_id: int, owner: str, **values) -> bool:
    """Record the job's end, if this worker still holds it (in the session's transaction, not committed)."""
    done = db.session.execute(
        update(SolveJob).where(SolveJob.id == job_id, SolveJob.lease_owner == owner, SolveJob.state == "running")
        .values(lease_owner=None, lease_expires_at=None, finished_at=utcnow(), **values)
        .execution_options(synchronize_session=False))
    return done.rowcount == 1


def _failed(job_id: int, owner: str, error: ServiceError) -> None:
    db.session.rollback()
    body = error_body(error.status, error.message, code=error.code, fields=error.fields)["error"]
    body.pop("request_id", None)
    if _settle(job_id, owner, state="failed", error=body):
        log.info("job %s failed: %s", job_id, error.message)
    db.session.commit()


# --- the heartbeat --------------------------------------------------------------------------------------

class Heartbeat:
    """While a job runs: twice a second, in a transaction of its own on its own connection, write the
    latest progress and the time elapsed, renew the lease and read whether the job was cancelled."""

    def __init__(self, engine, job_id: int, owner: str, lease_seconds: float, clock_start: float):
        self.engine = engine
        self.clock_start = clock_start
        self.job_id = job_id
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)
        self.cancelled = threading.Event()
        self.lost = threading.Event()
        self._latest: dict | None = None
        self.final: dict | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{job_id}-heartbeat", daemon=True)

    def report(self, progress: dict) -> None:
        """The optimizer's latest figures (called on its thread): kept for the next beat."""
        with self._lock:
            self._latest = progress

    def should_stop(self) -> bool:
        return self.cancelled.is_set() or self.lost.is_set()

    def beat(self) -> None:
        table = SolveJob.__table__
        with self._lock:
            progress = dict(self._latest or {})
        # The elapsed time moves on even while CP-SAT searches without finding better.
        progress["elapsed"] = round(time.perf_counter() - self.clock_start, 2)
        values = {"lease_expires_at": utcnow() + self.lease, "progress": progress}
        with self.engine.begin() as connection:
            renewed = connection.execute(update(table).where(
                table.c.id == self.job_id, table.c.lease_owner == self.owner, table.c.state == "running")
                .values(**values))
            asked = connection.execute(select(table.c.cancel_requested_at).where(table.c.id == self.job_id))
            cancel = asked.scalar()
        if renewed.rowcount != 1:
            self.lost.set()
        if cancel is not None:
            self.cancelled.set()

    def _run(self) -> None:
        while not self._done.wait(BEAT_SECONDS):
            try:
                self.beat()
            except Exception:  # a database hiccup: the next beat tries again, the lease has slack
                log.exception("job %s: heartbeat failed", self.job_id)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


# --- running one job ------------------------------------------------------------------------------------

def _caller(job: SolveJob) -> Caller:
    """The person who asked, acting through a worker (the audit trail says both)."""
    user = db.session.get(User, job.created_by_id) if job.created_by_id else None
    return Caller(user=user, origin="worker")


def _parameters(job: SolveJob) -> dict:
    raw = job.params.get("parameters") or {}
    if job.kind == "proposal":
        return ProposalRequestSchema().load(raw)
    if job.kind == "batch_intake":
        return dict(raw)
    return ReplanRequestSchema().load(raw)


class _Run:
    """One claimed job, from its read to its write."""

    def __init__(self, job_id: int, owner: str, clock_start: float, solver=None):
        self.job_id = job_id
        self.solver = solver
        self.owner = owner
        self.clock_start = clock_start
        self.engine = db.engine
        self.made: list[int] = []
        # Seconds spent reading, solving and writing (every attempt), for the job's record.
        self.spent = {"read": 0.0, "solve": 0.0, "write": 0.0}

    @staticmethod
    def left(until: float) -> float:
        return until - time.perf_counter()

    def run(self) -> None:
        job = db.session.get(SolveJob, self.job_id)
        attempts, limit, kind = job.attempts, job.time_limit, job.kind
        if job.cancel_requested_at is not None:
            self._end(state="cancelled", progress=job.progress)
            return
        if attempts > current_app.config["JOB_MAX_ATTEMPTS"]:
            _failed(self.job_id, self.owner, ServiceError(
                f"The job was started {attempts - 1} times and its worker stopped each time.",
                code="worker_lost", fields={"job": "worker lost"}))
            return
        caller = _caller(job)
        parameters = _parameters(job)
        params = dict(job.params)
        with Heartbeat(self.engine, self.job_id, self.owner, current_app.config["JOB_LEASE_SECONDS"],
                       self.clock_start) as heart:
            until = self.clock_start + limit
            try:
                if kind in ("proposal", "replan"):
                    self._one(kind, params["plan_id"], parameters, until, caller, heart)
                elif kind == "absence_replan":
                    self._absence(params, parameters, until, caller, heart)
                else:
                    self._batch(params["plan_ids"], parameters, until, caller, heart)
            except Cancelled:
                db.session.rollback()
                self._release_made(caller)
                self._end(state="cancelled", progress=self._progress(heart))
                return
            except LostLease:
                db.session.rollback()
                log.warning("job %s: lease lost to another worker; its result is not written", self.job_id)
                return
            except ServiceError as refused:
                _failed(self.job_id, self.owner, refused)
                return

    def _progress(self, heart: Heartbeat) -> dict:
        """The last report, with the time the job has taken so far and where it went (read, solve, write)."""
        return {**(heart.final or {}), "elapsed": round(time.perf_counter() - self.clock_start, 2),
                "seconds": {k: round(v, 2) for k, v in self.spent.items()}}

    def _end(self, **values) -> None:
        if not _settle(self.job_id, self.owner, **values):
            db.session.rollback()
            return
        db.session.commit()

    def _observer(self, heart: Heartbeat, seconds: float) -> Observer:
        def report(progress: dict) -> None:
            progress = {**progress, "elapsed": round(time.perf_counter() - self.clock_start, 2)}
            heart.final = progress
            heart.report(progress)

        return Observer(on_progress=report, should_stop=heart.should_stop, seconds=seconds)

    def _solve(self, prepare, finish, until: float, heart: Heartbeat, caller: Caller):
        """Read, solve with nothing open, write and mark done, re-checked. After a conflict (the calendar
        changed under the solve), once more in the time kept for it, from the first solution (what still fits
        stays), else the job fails saying why."""
        limit = self.left(until)
        reserve = min(RESOLVE_MOST, RESOLVE_SHARE * limit) if limit >= RESOLVE_FROM else 0.0
        first = None
        for attempt in (1, 2):
            began = time.perf_counter()
            # The read is a transaction of its own that takes no lock: on SQLite the requests' writes (and
            # reads: they begin IMMEDIATE) never wait for it.
            db.session.commit()
            reading(db.session)
            solving = prepare(utcnow())
            if first is not None and solving.kind in ("plan", "batch"):
                proposals.hint_with(solving, first)
            db.session.rollback()  # the read transaction ends here: nothing is open while solving
            self.spent["read"] += time.perf_counter() - began
            # Writing takes longer the more plans it holds slots for (a batch intake).
            writing = WRITE_RESERVE + WRITE_PER_PLAN * max(1, len(solving.plans))
            seconds = self.left(until) - writing - (reserve if attempt == 1 else 0.0)
            if attempt == 2 and seconds < 0.5:
                raise Conflict("The clinic's calendar changed while the schedule was computed, and no time was "
                               "left to compute it again; ask for it again.",
                               fields={"plan_id": "calendar changed meanwhile"})
            began = time.perf_counter()
            proposals.solve_prepared(solving, seconds=max(0.1, seconds), observer=self._observer(heart, seconds),
                                     solver=self.solver)
            self.spent["solve"] += time.perf_counter() - began
            first = solving.solution
            if heart.lost.is_set():
                raise LostLease()
            if heart.cancelled.is_set():
                raise Cancelled()
            began = time.perf_counter()
            try:
                made = finish(solving, caller=caller, now=utcnow(), commit=False)
            except Conflict:
                db.session.rollback()
                self.spent["write"] += time.perf_counter() - began
                if attempt == 2:
                    raise
                log.info("job %s: the calendar changed while solving; solving again", self.job_id)
            else:
                self.spent["write"] += time.perf_counter() - began
                return made
        raise AssertionError("unreachable")

    def _write(self, made: list, heart: Heartbeat, *, result: dict | None = None) -> None:
        """Commit the proposals' write together with the job's own row, if this worker still holds the job:
        with `result`, the job is done in that same transaction."""
        ids = [p.id for p in made]
        began = time.perf_counter()
        if result is None:
            held = _settle_keep(self.job_id, self.owner)
        else:
            held = _settle(self.job_id, self.owner, state="done", result={**result, "proposal_ids": self.made + ids},
                           progress=self._progress(heart))
        if not held:
            db.session.rollback()
            raise LostLease()
        db.session.commit()
        self.spent["write"] += time.perf_counter() - began
        self.made += ids

    def _one(self, kind: str, plan_id: int, parameters: dict, until: float, caller: Caller, heart) -> None:
        prepare = proposals.prepare_proposal if kind == "proposal" else proposals.prepare_replan
        proposal = self._solve(lambda now: prepare(plan_id, parameters, now=now), proposals.finish, until, heart,
                               caller)
        self._write([proposal], heart, result={})

    def _absence(self, params: dict, parameters: dict, until: float, caller: Caller, heart) -> None:
        affected = proposals.affected_by_absence(params["provider_id"], params["time_off_id"], caller=caller)
        plan_ids = sorted({a.plan_id for a in affected if a.plan_id is not None})
        without_plan = [a.id for a in affected if a.plan_id is None]
        db.session.commit()
        refused = []
        for index, plan_id in enumerate(plan_ids):
            # Each plan gets its share of what is left.
            share = time.perf_counter() + self.left(until) / (len(plan_ids) - index)
            try:
                proposal = self._solve(lambda now: proposals.prepare_replan(plan_id, parameters, now=now),
                                       proposals.finish, share, heart, caller)
            except (Cancelled, LostLease):
                raise
            except ServiceError as why:
                db.session.rollback()
                refused.append({"plan_id": plan_id, "why": why.message})
                continue
            self._write([proposal], heart)
        self._write([], heart, result={"without_plan": without_plan, "not_replanned": refused})

    def _batch(self, plan_ids: list[int], parameters: dict, until: float, caller: Caller, heart) -> None:
        made = self._solve(lambda now: proposals.prepare_batch(plan_ids, parameters, now=now),
                           proposals.finish_batch, until, heart, caller)
        self._write(made, heart, result={})

    def _release_made(self, caller: Caller) -> None:
        """A cancelled job holds nothing: proposals it already wrote (an absence's first plans) are let go."""
        for proposal_id in self.made:
            try:
                proposals.release_proposal(proposal_id, caller=caller)
            except ServiceError:
                db.session.rollback()


def _settle_keep(job_id: int, owner: str) -> bool:
    """Within the write's transaction: this worker still holds the job (so its result may be written)."""
    held = db.session.execute(
        update(SolveJob).where(SolveJob.id == job_id, SolveJob.lease_owner == owner, SolveJob.state == "running")
        .values(lease_expires_at=utcnow() + timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"]))
        .execution_options(synchronize_session=False))
    return held.rowcount == 1


def run_job(job_id: int, owner: str, clock_start: float | None = None, solver=None) -> None:
    """Run a job this worker claimed (solving here, or in `solver`'s process). Whatever happens, the session
    is left with no transaction open."""
    run = _Run(job_id, owner, clock_start if clock_start is not None else time.perf_counter(), solver)
    try:
        run.run()
    except Exception:
        log.exception("job %s: unexpected failure", job_id)
        db.session.rollback()
        _failed(job_id, owner, ServiceError("The schedule could not be computed (an unexpected error; it is "
                                            "in the service's log).", code="internal_error"))
    finally:
        db.session.remove()


def run_next(owner: str | None = None, solver=None) -> int | None:
    """Claim and run one job; its id, or None when none was waiting."""
    owner = owner or worker_name()
    began = time.perf_counter()
    job_id = claim(owner)
    if job_id is not None:
        run_job(job_id, owner, began, solver)
    return job_id


def run_pending(owner: str | None = None) -> list[int]:
    """Run jobs until none is waiting (tests, and a worker's slot)."""
    ran = []
    while (job_id := run_next(owner)) is not None:
        ran.append(job_id)
    return ran


def threads_per_solve(budget: int | None, solves: int) -> int:
    """CP-SAT threads each of `solves` concurrent solves may use out of `budget` for them all (None: one per
    core of the machine), at least one each."""
    budget = budget or os.cpu_count() or 1
    return max(1, budget // max(1, solves))


class Runners:
    """`count` threads, each claiming and running one job at a time, looking every `poll` seconds when idle:
    the worker's solves, and the in-process runner of `make run` beside the reminder scheduler. Each solve
    uses at most `threads` CP-SAT threads, at nice value `nice`."""

    def __init__(self, app, count: int, poll: float, nice: int = 0, in_child: bool = False,
                 threads: int | None = None):
        self.app = app
        self.poll = poll
        self.nice = nice
        self.in_child = in_child
        self.solver_threads = threads
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._loop, name=f"solve-jobs-{i}", daemon=True)
                        for i in range(count)]

    def start(self) -> Runners:
        for thread in self.threads:
            thread.start()
        return self

    def _solver(self):
        """What this thread's jobs solve with. In a child process of its own (the optimizer's Python work
        never holds this process's interpreter), which lowers its own priority: this thread keeps its own, so
        the job's reads, its heartbeat and its write (SQLite's write lock held) are never slowed behind the
        searches, nor behind the other solves. Solving in this thread instead, the thread itself is lowered
        (Linux keeps a nice value per thread, and CP-SAT's threads inherit it), its transactions with it."""
        if self.in_child:
            return SolverProcess(nice=self.nice, threads=self.solver_threads).start()
        if not lower_priority(self.nice):
            log.info("solve jobs: could not lower this thread's priority")
        return None

    def _loop(self) -> None:
        owner = worker_name()
        solver = self._solver()
        solve = solver.solve if solver is not None else partial(optimizer_solve, threads=self.solver_threads)
        failures = 0
        try:
            while not self.stopping.is_set():
                try:
                    with self.app.app_context():
                        ran = run_next(owner, solve)
                    failures = 0
                except Exception:  # the database away: said once, then tried again less and less often
                    if failures == 0:
                        log.exception("solve jobs: claiming failed; trying again")
                    failures += 1
                    ran = None
                if ran is None:
                    self.stopping.wait(min(self.poll * 2 ** failures, 30.0))
        finally:
            if solver is not None:
                solver.close()

    def stop(self, timeout: float | None = None) -> None:
        """No new job is claimed; a solve under way finishes (within its time limit) unless `timeout` ends
        the wait first (its lease then runs out and another worker takes it up)."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)


def start_runners(app) -> Runners | None:
    count = int(app.config["JOBS_PER_PROCESS"])
    if count < 1:
        return None
    threads = threads_per_solve(app.config.get("JOB_SOLVER_THREADS"), count)
    return Runners(app, count, float(app.config["JOB_POLL_SECONDS"]), int(app.config["JOB_NICE"]),
                   bool(app.config["JOB_SOLVE_IN_CHILD"]), threads).start()
