"""The care-plan scheduling optimizer: a problem document in, a solution document out.

    from careplan.optimizer import solve, validate, check, ProblemError

    solution = solve(problem, time_limit=20.0, deterministic=False)

It imports nothing from Flask or the database; OR-Tools is only loaded when a
problem is actually solved. See README.md beside this file.
"""

from .check import check
from .problem import ProblemError, validate
from .runner import solve

__all__ = ["ProblemError", "check", "solve", "validate"]
