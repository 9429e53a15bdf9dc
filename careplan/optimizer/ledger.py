"""A schedule being built one appointment at a time, and what blocks the next.

The first-available baseline books through it, and the explanations ask it
why an option of an unmet session cannot be added to the final schedule.
"""

from __future__ import annotations

import bisect

from . import resources
from .demand import Demand, Option
from .space import Booking, Space, overlapping

# Why an option cannot be added, in the order they are tested.
BEFORE_ASSESSMENT = "before_assessment"
PATIENT_BUSY = "patient_busy"
PROVIDER_TAKEN = "provider_taken"
SPACING = "spacing"
DAILY_CAP = "daily_cap"
WAIT = "wait"
ROOM_TAKEN = "room_taken"
OTHER_LOCATION = "other_location"


class Ledger:
    def __init__(self, space: Space):
        self.space = space
        self.bookings: list[Booking] = []
        self._provider: dict[int, list[tuple[int, int]]] = {}
        self._room: dict[int, list[tuple[int, int]]] = {}
        self._patient_day: dict[tuple[int, int], list[Booking]] = {}
        # Each patient's earliest appointment start: an assessment must end before it
        # (read for every assessment option; scanning all patients' days took seconds on 100 plans).
        self._first_start: dict[int, int] = {}
        self._discipline_days: dict[tuple[int, str], list[int]] = {}
        self._assessment_end: dict[int, int] = {}
        self.seen: dict[tuple[int, str], set[int]] = {}

    def add(self, booking: Booking) -> None:
        demand = self.space.demands[booking.demand]
        self.bookings.append(booking)
        bisect.insort(self._provider.setdefault(booking.provider, []), (booking.start, booking.end))
        if booking.room >= 0:
            self._room.setdefault(booking.room, []).append((booking.start, booking.end))
        day = self._patient_day.setdefault((demand.patient, booking.day), [])
        self._first_start[demand.patient] = min(booking.start, self._first_start.get(demand.patient, booking.start))
        bisect.insort(day, booking, key=lambda b: b.start)
        if demand.is_assessment:
            self._assessment_end[demand.patient] = booking.end
        else:
            self._discipline_days.setdefault((demand.patient, demand.discipline), []).append(booking.day)
        self.seen.setdefault((demand.patient, demand.discipline), set()).add(booking.provider)

    def day(self, patient: int, day: int) -> list[Booking]:
        return self._patient_day.get((patient, day), [])

    def blocker(self, demand: Demand, option: Option) -> str | None:
        """The first hard rule adding this option would break, or None."""
        space = self.space
        patient = demand.patient
        if space.assessment(patient) is not None and not demand.is_assessment:
            end = self._assessment_end.get(patient)
            if end is None or end > option.start:
                return BEFORE_ASSESSMENT
        if demand.is_assessment and self._first_start.get(patient, option.end) < option.end:
            return BEFORE_ASSESSMENT
        transition = space.problem.transition_minutes
        same_day = self.day(patient, option.day)
        for other in same_day:
            if option.start < other.end + transition and other.start < option.end + transition:
                return PATIENT_BUSY
        if overlapping(self._provider.get(option.provider, []), option.start, option.end):
            return PROVIDER_TAKEN
        if option.room >= 0 and resources.room_full(space, self._room.get(option.room, []), option.room,
                                                    option.start, option.end):
            return ROOM_TAKEN
        if resources.other_location(same_day, option):
            return OTHER_LOCATION
        if not demand.is_assessment:
            gap = space.gap_days(patient, demand.discipline, option.day)
            for other_day in self._discipline_days.get((patient, demand.discipline), ()):
                needed = max(gap, space.gap_days(patient, demand.discipline, other_day))
                if abs(option.day - other_day) < needed:
                    return SPACING
        cap = space.problem.patients[patient].max_sessions_per_day
        if cap is not None and len(same_day) >= cap:
            return DAILY_CAP
        max_wait = space.problem.max_wait_minutes
        trips = [b for b in same_day if not b.virtual]
        if max_wait is not None and trips and not option.virtual:
            # The waiting limit binds consecutive in-person appointments only.
            times = sorted([(b.start, b.end) for b in trips] + [(option.start, option.end)])
            if any(nxt[0] - prev[1] > max_wait for prev, nxt in zip(times, times[1:])):
                return WAIT
        return None
