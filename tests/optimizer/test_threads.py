"""A service solving several problems at once bounds each solve's CP-SAT threads and lowers its solver
processes' priority, so that its requests keep the processor (issue 16)."""
from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pytest

from careplan.optimizer import check, solve
from careplan.optimizer import sat
from careplan.optimizer.process import SolverProcess

SAMPLES = Path(__file__).resolve().parents[2] / "bench" / "samples"


def _problem(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture
def workers_asked(monkeypatch):
    """The number of CP-SAT workers of every search started (recorded as the parameters are set)."""
    seen: list[int] = []

    class Recording(sat._cmh.SolveWrapper):
        def set_parameters(self, parameters):
            seen.append(parameters.num_workers)
            super().set_parameters(parameters)

    monkeypatch.setattr(sat._cmh, "SolveWrapper", Recording)
    return seen


def test_without_a_bound_a_search_runs_its_portfolio_and_with_one_never_more_threads(workers_asked):
    problem = _problem("one-plan.json")
    solve(problem, time_limit=2.0)
    assert max(workers_asked) > 2
    workers_asked.clear()
    solution = solve(problem, time_limit=2.0, threads=2)
    assert workers_asked and max(workers_asked) <= 2
    assert check(problem, solution) == []


def test_the_bound_is_the_calls_own_and_a_bound_below_one_is_refused(workers_asked):
    with sat.threads_at_most(1):
        assert sat.workers_for(8) == 1
    assert sat.workers_for(8) == 8
    with pytest.raises(ValueError, match="threads"):
        solve(_problem("tiny.json"), time_limit=1.0, threads=0)
    with pytest.raises(ValueError, match="threads"):
        SolverProcess(threads=0)


def _nice_values(pid: int) -> set[int]:
    """The nice value of each thread of a process (Linux: field 19 of /proc/PID/task/TID/stat)."""
    values = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            values.add(int((task / "stat").read_text().rsplit(")", 1)[1].split()[16]))
        except (OSError, IndexError):
            pass  # the thread ended meanwhile
    return values


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads nice values from /proc")
def test_a_solver_process_searches_at_the_nice_value_given_and_its_caller_keeps_its_own():
    own = os.getpriority(os.PRIO_PROCESS, 0)
    wanted = min(19, own + 7)
    solver = SolverProcess(nice=wanted, threads=2)
    try:
        solver.solve(_problem("tiny.json"), time_limit=1.0)  # the child is up, OR-Tools loaded
        problem, seen = _problem("clinic.json"), []
        done = threading.Event()

        def run():
            seen.append(solver.solve(problem, time_limit=4.0))
            done.set()

        threading.Thread(target=run, daemon=True).start()
        values, threads = set(), 0
        # CP-SAT runs several threads only in the batch's joint proof, its last fifth: look often.
        while not done.wait(0.02):
            values |= _nice_values(solver.pid)
            threads = max(threads, len(list(Path(f"/proc/{solver.pid}/task").iterdir())))
        # CP-SAT's own threads (more than the child's main one) all at the lowered priority.
        assert threads > 1 and values == {wanted}
        assert os.getpriority(os.PRIO_PROCESS, 0) == own
        assert check(problem, seen[0]) == []
    finally:
        solver.close()
