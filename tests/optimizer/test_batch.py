"""Many plans in one run: valid, and never fewer sessions than first-available."""

from __future__ import annotations

from careplan.optimizer import check, solve
from careplan.optimizer.baseline import first_available
from careplan.optimizer.generator import generate
from careplan.optimizer.problem import parse
from careplan.optimizer.space import Space


def test_a_busy_intake_books_at_least_what_first_available_does():
    problem = generate(61, providers=8, patients=8, weeks=4, booked=0.6)
    space = Space(parse(problem))
    baseline = first_available(space)
    solution = solve(problem, time_limit=4, deterministic=True)
    assert check(problem, solution) == []
    assert solution["method"] == "cp-sat" and solution["status"] == "FEASIBLE"
    assert solution["metrics"]["scheduled"] >= len(baseline)
    assert solution["metrics"]["visits_lower_bound"] <= solution["metrics"]["visits"]
    assert solution["gap"]["visits_above_lower_bound"] >= 0
