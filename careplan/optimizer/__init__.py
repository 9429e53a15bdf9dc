"""The care-plan scheduling optimizer: a problem document in, a solution document out.

    from careplan.optimizer import solve, validate, check, baseline, ProblemError

    solution = solve(problem, time_limit=20.0, deterministic=False)
    by_hand = baseline(problem)        # first-available booking, for comparison

It imports nothing from Flask or the database; OR-Tools is only loaded when a
problem is actually solved. See README.md beside this file.
"""

from .check import check
from .observe import Observer
from .problem import ProblemError, validate
from .runner import baseline, solve

__all__ = ["Observer", "ProblemError", "baseline", "check", "solve", "validate"]
