"""From a problem document to a solution document."""

from __future__ import annotations

import os
import time
from typing import Callable

from .baseline import first_available, same_clinician_first
from .check import check, rule_violations
from .metrics import score
from .observe import Observer, observing
from .problem import parse
from .solution import document
from .space import Booking, Space

# Up to this many patients, one model holds them all and can prove optimality.
JOINT_PATIENTS = 3
# The command line re-solves a batch's neighbourhoods in up to this many worker processes.
MAX_PROCESSES = 4


def solve(problem: dict, *, time_limit: float = 20.0, deterministic: bool = False,
          progress: Callable[[str], None] | None = None, processes: int = 1,
          observer: Observer | None = None, threads: int | None = None) -> dict:
    """Schedule every care plan of the problem; returns the solution document.

    Raises ProblemError (with the offending field's path) for an invalid
    problem. `time_limit` bounds the whole call in wall-clock seconds; in
    deterministic mode it bounds the search in CP-SAT's deterministic time
    units instead, so the same problem always gives the same schedule.
    A batch (more than three patients) re-solves its neighbourhoods in
    `processes` worker processes when given more than one (spawned, so a
    calling script needs the `if __name__ == "__main__":` guard);
    deterministic mode always solves in this process.
    `observer` (careplan.optimizer.observe.Observer) hears of each better schedule from CP-SAT's solution
    callbacks, can stop the search (the best schedule so far is returned at once) and bounds the whole call
    by its deadline.
    `threads` bounds the CP-SAT search threads of each search of this call (None: the model's own choice,
    up to 8): a service solving several problems at once on a few cores keeps them from crowding the
    processor. With another number of threads a deterministic solve may find another schedule.
    """
    from .sat import threads_at_most

    with observing(observer), threads_at_most(threads):
        return _solve(problem, time_limit, deterministic, progress, processes, observer)


def _solve(problem: dict, time_limit: float, deterministic: bool, progress, processes: int,
           observer: Observer | None) -> dict:
    began = time.perf_counter()

    def say(message: str) -> None:
        if progress is not None:
            progress(f"[{time.perf_counter() - began:5.1f} s] {message}")
        if observer is not None:
            observer.entering(message)

    space = Space(parse(problem))
    if space.fixed:
        conflicts = rule_violations(problem, document(space, space.fixed, "FEASIBLE", 0.0)["appointments"])
        if conflicts:
            return _infeasible(space, conflicts, time.perf_counter() - began)
    start = first_available(space)
    if observer is not None:
        observer.schedule(scheduled=len(start), demand=space.total_demand)
    say(f"first available: {len(start)} of {space.total_demand} sessions booked")
    search = time_limit
    if not deterministic:
        # Writing and checking the result takes about twice what reading the
        # problem and booking first-available did; keep that time for it.
        setup = time.perf_counter() - began
        search = max(0.05, time_limit - 3 * setup - 0.05)
    bookings, proven, visits_bound, extra = _optimise(problem, space, _better_start(space, start, say), search,
                                                      deterministic, say, processes)
    status = "OPTIMAL" if proven else "FEASIBLE"
    extra["method"] = "cp-sat"
    result = document(space, bookings, status, time.perf_counter() - began, extra, visits_bound)
    figures = result["metrics"]
    result["gap"] = {"visits_above_lower_bound": figures["visits"] - figures["visits_lower_bound"]}
    if "bounds" in result:
        result["gap"]["sessions_below_upper_bound"] = result["bounds"]["scheduled_upper_bound"] - figures["scheduled"]
    faults = check(problem, result)
    if faults:
        # Never hand out an invalid schedule: fall back to the first-available one.
        say("optimised schedule failed the independent check (" + "; ".join(faults[:3]) + "); "
            "returning the first-available schedule")
        result = document(space, start, "FEASIBLE", time.perf_counter() - began, {"method": "first-available"})
    if observer is not None:
        figures = result["metrics"]
        observer.schedule(force=True, scheduled=figures["scheduled"], demand=figures["demand"],
                          visits=figures["visits"], breaks=figures["continuity_breaks"],
                          bound=figures["visits_lower_bound"])
    say(f"{result['status']}: {result['metrics']['scheduled']} of {result['metrics']['demand']} sessions, "
        f"{result['metrics']['visits']} visits (lower bound {result['metrics']['visits_lower_bound']}) "
        f"in {result['solve_seconds']:.2f} s")
    return result


def default_processes() -> int:
    """One worker process per core, at most MAX_PROCESSES (the command line's default)."""
    return min(os.cpu_count() or 1, MAX_PROCESSES)


def baseline(problem: dict) -> dict:
    """The first-available schedule (what a front desk books by hand), as a solution document."""
    began = time.perf_counter()
    space = Space(parse(problem))
    bookings = first_available(space)
    return document(space, bookings, "FEASIBLE", time.perf_counter() - began, {"method": "first-available"})


def _better_start(space: Space, start: list[Booking], say) -> list[Booking]:
    """The search's first schedule: first-available's, or one keeping each patient with the clinicians
    and days they already have when that is better in the contract's order (0.1-0.2 s on 100 plans).
    Not when re-planning: first-available keeps the current appointments."""
    if space.fixed or space.hints:
        return start
    other = same_clinician_first(space)
    if score(space, other) < score(space, start):
        say(f"same clinicians first: {len(other)} sessions booked")
        return other
    return start


def _optimise(problem: dict, space: Space, start: list[Booking], time_limit: float, deterministic: bool, say,
              processes: int):
    from .batch import Batch
    from .model import PlanModel

    patients = list(range(len(space.problem.patients)))
    if len(patients) <= JOINT_PATIENTS:
        model = PlanModel(space, patients, {})
        model.report = True
        outcome = model.solve(start, time_limit, deterministic)
        extra = {"bounds": {"scheduled_upper_bound": outcome.scheduled_bound,
                            "stage1_proven": outcome.stage1_proven}}
        return outcome.bookings, outcome.proven, outcome.visits_bound, extra
    with Batch(space, start, time_limit, deterministic, say, problem, processes) as batch:
        batch.run()
        bookings = batch.bookings()
        extra = {}
        if batch.stage1_proven:
            extra["bounds"] = {"scheduled_upper_bound": len(bookings), "stage1_proven": True}
        return bookings, False, batch.visits_bound(), extra


def _infeasible(space: Space, conflicts: list[str], seconds: float) -> dict:
    result = document(space, [], "INFEASIBLE", seconds)
    reason = "the fixed appointments break the clinic's rules: " + "; ".join(conflicts[:5])
    for entry in result["unscheduled"]:
        entry["reason"] = reason
    return result
