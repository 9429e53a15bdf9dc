"""Requests win the processor over solves (issue 16): a job's search runs in a child process at a lowered
priority while the serving process's own threads (the job's reads, heartbeat and write among them) keep
theirs, and one process's solves together use about as many CP-SAT threads as the machine has cores."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from careplan.jobs.runner import Runners, start_runners, threads_per_solve
from tests.jobs.test_jobs import _job, _long_batch, _wait_for


def test_the_thread_budget_is_shared_by_the_solves_at_least_one_each():
    assert threads_per_solve(8, 2) == 4
    assert threads_per_solve(3, 2) == 1
    assert threads_per_solve(1, 4) == 1
    # No budget set: the machine's cores.
    assert threads_per_solve(None, 1) == (os.cpu_count() or 1)
    assert threads_per_solve(None, 2) == max(1, (os.cpu_count() or 1) // 2)


def test_the_runners_take_their_budget_and_priority_from_the_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_PER_PROCESS", 3)
    monkeypatch.setitem(app.config, "JOB_SOLVER_THREADS", 6)
    monkeypatch.setitem(app.config, "JOB_NICE", 12)
    monkeypatch.setitem(app.config, "JOB_SOLVE_IN_CHILD", False)
    runners = start_runners(app)
    try:
        assert len(runners.threads) == 3 and runners.solver_threads == 2 and runners.nice == 12
    finally:
        runners.stop(10)


def _stat(path: Path) -> list[str]:
    """/proc's stat fields after the command's name (field 3 onwards)."""
    return path.read_text().rsplit(")", 1)[1].split()


def _nice(path: Path) -> int:
    return int(_stat(path)[16])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads nice values from /proc")
def test_a_jobs_search_runs_at_the_lowered_priority_and_its_database_work_at_the_servers(app):
    own = os.getpriority(os.PRIO_PROCESS, 0)
    lowered = min(19, own + 5)
    job_id = _long_batch(app, 4.0, patients=6)
    runners = Runners(app, 1, 0.05, nice=lowered, in_child=True, threads=1).start()
    try:
        _wait_for(lambda: _job(app, job_id).progress.get("scheduled"))
        heartbeat = next(t for t in threading.enumerate() if t.name == f"job-{job_id}-heartbeat")
        runner = runners.threads[0]
        tasks = Path("/proc/self/task")
        assert _nice(tasks / str(runner.native_id) / "stat") == own
        assert _nice(tasks / str(heartbeat.native_id) / "stat") == own
        children = [p for p in Path("/proc").iterdir() if p.name.isdigit() and p.name != str(os.getpid())
                    and _parent(p) == os.getpid() and b"multiprocessing" in _cmdline(p)]
        solver = [p for p in children if lowered in _nices(p)]
        assert solver, "no solver process at the lowered priority"
        assert all(_nices(p) == {lowered} for p in solver)
        _wait_for(lambda: _job(app, job_id).state == "done", seconds=20)
    finally:
        runners.stop(10)


def _parent(process: Path) -> int | None:
    try:
        return int(_stat(process / "stat")[1])
    except OSError:
        return None


def _cmdline(process: Path) -> bytes:
    try:
        return (process / "cmdline").read_bytes()
    except OSError:
        return b""


def _nices(process: Path) -> set[int]:
    """The nice values of a process's threads (one that ends meanwhile is left out)."""
    values = set()
    try:
        tasks = list((process / "task").iterdir())
    except OSError:
        return values
    for task in tasks:
        try:
            values.add(_nice(task / "stat"))
        except OSError:
            pass
    return values
