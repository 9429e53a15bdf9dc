"""Everything derived from a problem once: its clock, demands and options.

Shared by the first-available baseline, the CP-SAT model, the batch driver
and the explanations, so each computes calendars and options only once.
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

from .calendar import Clock
from .demand import Calendars, Demand, Option, plan_demands
from .problem import Current, Problem, ProblemError


class Booking(NamedTuple):
    """One appointment of a schedule: which demand it answers, with whom, when."""

    demand: int
    provider: int
    start: int
    end: int
    day: int
    # As in Option (the extensions): location and room indexes (-1 for none), a virtual session.
    location: int = -1
    room: int = -1
    virtual: bool = False


def overlapping(taken: list[tuple], start: int, end: int) -> tuple | None:
    """The interval of `taken` (sorted, non-overlapping (start, end, ...) tuples) that [start, end) overlaps."""
    i = bisect.bisect_left(taken, (end,))
    if i > 0 and taken[i - 1][1] > start:
        return taken[i - 1]
    return None


class Space:
    def __init__(self, problem: Problem):
        self.problem = problem
        self.clock = Clock(problem.timezone, problem.horizon_start, problem.weeks, problem.slot_minutes)
        self.calendars = Calendars(problem, self.clock)
        self.demands: list[Demand] = []
        self.by_patient: list[list[Demand]] = []
        self._gaps: list[dict[tuple[str, int], int]] = []
        for patient in problem.patients:
            demands = plan_demands(self.clock, patient, len(self.demands))
            self.demands.extend(demands)
            self.by_patient.append(demands)
            self._gaps.append(
                {(d.discipline, d.week): d.min_gap_days for d in demands if not d.is_assessment}
            )
        self._options: dict[int, list[Option]] = {}
        self.fixed: list[Booking] = []
        self.hints: list[tuple[int, Current, Booking | None]] = []
        for patient in problem.patients:
            self._read_current(patient.index)

    @property
    def total_demand(self) -> int:
        return sum(d.count for d in self.demands)

    def options(self, demand: int) -> list[Option]:
        if demand not in self._options:
            self._options[demand] = self.calendars.options(self.demands[demand])
        return self._options[demand]

    def assessment(self, patient: int) -> Demand | None:
        """The patient's assessment demand, if the plan opens with one."""
        demands = self.by_patient[patient]
        return demands[0] if demands and demands[0].is_assessment else None

    def gap_days(self, patient: int, discipline: str, day: int) -> int:
        """min_gap_days of the plan line a treatment on that day answers."""
        week = (day - self.week0(patient)) // 7
        return self._gaps[patient].get((discipline, week), 1)

    def week0(self, patient: int) -> int:
        """Horizon day index of the Monday of the patient's plan week 0."""
        earliest = self.problem.patients[patient].earliest_start
        return self.clock.day_index(earliest) - earliest.weekday()

    def _read_current(self, patient: int) -> None:
        used: dict[int, int] = {}
        for current in self.problem.patients[patient].current:
            demand = self._demand_of(patient, current)
            used[demand.index] = used.get(demand.index, 0) + 1
            if used[demand.index] > demand.count:
                raise ProblemError(current.path, "more current appointments than the plan asks for that week")
            provider = self.problem.provider(current.provider).index
            start = self.clock.minute(current.start)
            booking = next(
                (Booking(demand.index, *o)
                 for o in self.options(demand.index)
                 if o.provider == provider and o.start == start and self._same_place(current, o)),
                None,
            )
            if current.fixed:
                if booking is None:
                    raise ProblemError(
                        current.path,
                        "a fixed appointment must fit the provider's and the patient's windows, "
                        "calendars, the grid and the plan week",
                    )
                self.fixed.append(booking)
            else:
                self.hints.append((patient, current, booking))

    def _same_place(self, current: Current, option) -> bool:
        """Whether an option is held as the current appointment says (the extensions; unsaid: any)."""
        problem = self.problem
        if current.mode is not None and (current.mode == "virtual") != option.virtual:
            return False
        if current.location is not None and (
            option.location < 0 or problem.locations[option.location].id != current.location
        ):
            return False
        if current.room is not None and (option.room < 0 or problem.rooms[option.room].id != current.room):
            return False
        return True

    def _demand_of(self, patient: int, current: Current) -> Demand:
        for demand in self.by_patient[patient]:
            if demand.discipline == current.discipline and demand.kind == current.kind and (
                demand.is_assessment or demand.week == current.week
            ):
                return demand
        raise ProblemError(current.path, f"plan week {current.week} asks for no {current.discipline} session")
