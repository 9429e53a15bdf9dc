"""Deterministic mode: the same problem always gives the same schedule."""

from __future__ import annotations

from careplan.optimizer import solve
from careplan.optimizer.generator import generate


def _schedule(problem: dict) -> list:
    solution = solve(problem, time_limit=3, deterministic=True)
    return solution["appointments"], solution["unscheduled"], solution["metrics"]


def test_one_plan_is_reproducible():
    problem = generate(51, providers=12, patients=1, weeks=6)
    assert _schedule(problem) == _schedule(problem)


def test_a_batch_is_reproducible():
    problem = generate(52, providers=10, patients=6, weeks=4, booked=0.5)
    assert _schedule(problem) == _schedule(problem)
