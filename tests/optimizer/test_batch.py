"""Many plans in one run: valid, and never fewer sessions than first-available."""

from __future__ import annotations

from collections import Counter

from careplan.optimizer import check, solve
from careplan.optimizer.baseline import first_available
from careplan.optimizer.generator import generate
from careplan.optimizer.problem import parse
from careplan.optimizer.space import Space

from .oracle import lexicographic_optimum


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


def test_the_visits_bound_of_a_batch_is_the_fewest_any_schedule_of_its_sessions_needs():
    # Six plans over four providers: the plans' own floors (each without the
    # others) give 20 here; the whole run's floor is one more, and an
    # independent MIP finds no schedule of the same sessions with fewer.
    problem = generate(123, providers=4, patients=6, weeks=3, booked=0.3)
    solution = solve(problem, time_limit=4, deterministic=True)
    assert check(problem, solution) == []
    index = {patient["id"]: i for i, patient in enumerate(problem["patients"])}
    sessions = Counter((index[a["patient"]], a["week"], a["discipline"]) for a in solution["appointments"])
    fewest = lexicographic_optimum(problem, sessions)[1]
    assert solution["metrics"]["visits_lower_bound"] == fewest == 21
