"""Watching a solve: progress from CP-SAT's own solution callbacks, a stop within a fraction of a second, a
deadline for the whole call; the same through a solver process of its own."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from careplan.optimizer import Observer, ProblemError, check, solve
from careplan.optimizer.process import SolverProcess

SAMPLES = Path(__file__).resolve().parents[2] / "bench" / "samples"


def _problem(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def test_progress_comes_from_the_solvers_callbacks_and_ends_with_the_solutions_figures():
    problem = _problem("one-plan.json")
    seen = []
    solution = solve(problem, time_limit=5.0, observer=Observer(on_progress=seen.append, every=0.0))
    figures = solution["metrics"]
    assert any(report.get("visits") is not None for report in seen[:-1])
    assert [r["elapsed"] for r in seen] == sorted(r["elapsed"] for r in seen)
    last = seen[-1]
    assert (last["scheduled"], last["demand"], last["visits"], last["breaks"], last["bound"]) == (
        figures["scheduled"], figures["demand"], figures["visits"], figures["continuity_breaks"],
        figures["visits_lower_bound"])


def test_a_stop_ends_the_search_at_once_with_a_valid_schedule():
    problem = _problem("clinic.json")
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    began = time.perf_counter()
    solution = solve(problem, time_limit=30.0, observer=Observer(should_stop=stop.is_set))
    assert time.perf_counter() - began < 3.0
    assert check(problem, solution) == []


def test_the_observers_deadline_bounds_the_whole_call():
    problem = _problem("clinic.json")
    began = time.perf_counter()
    solution = solve(problem, time_limit=30.0, observer=Observer(seconds=3.0))
    assert time.perf_counter() - began < 4.0
    assert check(problem, solution) == []


def test_a_solver_process_solves_reports_stops_and_refuses_as_solve_does():
    solver = SolverProcess()
    try:
        problem = _problem("clinic.json")
        seen, stop = [], threading.Event()
        observer = Observer(on_progress=seen.append, should_stop=stop.is_set)
        solver.solve(_problem("tiny.json"), time_limit=2.0)  # the child is up
        threading.Timer(1.5, stop.set).start()
        began = time.perf_counter()
        solution = solver.solve(problem, time_limit=30.0, observer=observer)
        assert time.perf_counter() - began < 3.5
        assert check(problem, solution) == [] and any("scheduled" in report for report in seen)
        broken = _problem("tiny.json")
        broken["patients"][0]["earliest_start"] = "soon"
        with pytest.raises(ProblemError) as refused:
            solver.solve(broken, time_limit=1.0)
        assert refused.value.path == "patients[0].earliest_start"
    finally:
        solver.close()
