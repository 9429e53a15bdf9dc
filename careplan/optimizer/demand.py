"""What each care plan asks for, and where each session could go.

A *demand* is one (patient, plan week, discipline) line of the plan, or the
assessment: `count` interchangeable sessions of one length. An *option* is
one (provider, start) at which one of those sessions could be booked,
respecting every rule that does not depend on the other appointments being
chosen: qualification, both parties' weekly windows, time off, bookings
already in the calendars, the slot grid and the horizon.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import NamedTuple

from .calendar import Clock
from .problem import Dated, Patient, Problem, Window


@dataclass(frozen=True)
class Demand:
    index: int
    patient: int
    kind: str
    discipline: str
    phase: str | None
    week: int | None
    count: int
    minutes: int
    min_gap_days: int
    first_day: int
    end_day: int
    # The rooms and virtual-sessions extensions: the room kind an in-person session holds, the line's mode,
    # and whether it may be held in person / by video for this patient.
    room_kind: str | None = None
    mode: str = "in_person"
    in_person: bool = True
    virtual: bool = False

    @property
    def is_assessment(self) -> bool:
        return self.kind == "assessment"


class Option(NamedTuple):
    provider: int
    start: int
    end: int
    day: int
    # The extensions: the location (index) and room (index) of an in-person session, -1 for none;
    # True for a virtual (video) session, which has neither.
    location: int = -1
    room: int = -1
    virtual: bool = False


def _modes(mode: str, accepts_virtual: bool) -> dict:
    return {"mode": mode, "in_person": mode != "virtual", "virtual": mode != "in_person" and accepts_virtual}


def plan_demands(clock: Clock, patient: Patient, first_index: int = 0) -> list[Demand]:
    """The patient's demands in chronological order, assessment first."""
    demands: list[Demand] = []
    start_day = clock.day_index(patient.earliest_start)
    week0 = start_day - patient.earliest_start.weekday()

    def add(**fields) -> None:
        demands.append(Demand(index=first_index + len(demands), patient=patient.index, **fields))

    if patient.assessment is not None:
        add(kind="assessment", discipline=patient.assessment.discipline, phase=None, week=None, count=1,
            minutes=patient.assessment.minutes, min_gap_days=0, first_day=start_day, end_day=clock.days,
            room_kind=patient.assessment.room_kind, **_modes(patient.assessment.mode, patient.accepts_virtual))
    first_week = 0
    for phase in patient.phases:
        for week in range(first_week, first_week + phase.weeks):
            monday = week0 + 7 * week
            for line in phase.sessions:
                if (week - first_week) % line.every_weeks == 0:
                    add(kind="treatment", discipline=line.discipline, phase=phase.name, week=week,
                        count=line.per_week, minutes=line.minutes, min_gap_days=line.min_gap_days,
                        first_day=max(monday, start_day), end_day=monday + 7,
                        room_kind=line.room_kind, **_modes(line.mode, patient.accepts_virtual))
        first_week += phase.weeks
    return demands


def _merge(intervals: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sorted, merged busy intervals as parallel start and end lists."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(intervals):
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _free(windows: list[tuple[int, int]], busy: tuple[list[int], list[int]]) -> list[tuple[int, int]]:
    """Each window minus the busy intervals; windows are kept apart, never joined."""
    busy_starts, busy_ends = busy
    free = []
    for low, high in windows:
        i = bisect.bisect_right(busy_ends, low)
        cursor = low
        while i < len(busy_starts) and busy_starts[i] < high:
            if busy_starts[i] > cursor:
                free.append((cursor, busy_starts[i]))
            cursor = max(cursor, busy_ends[i])
            i += 1
        if cursor < high:
            free.append((cursor, high))
    return free


def intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for a_low, a_high in a:
        for b_low, b_high in b:
            low, high = max(a_low, b_low), min(a_high, b_high)
            if low < high:
                out.append((low, high))
    return out


class Calendars:
    """Free time of every provider and patient, per horizon day, in real minutes."""

    def __init__(self, problem: Problem, clock: Clock):
        self.problem = problem
        self.clock = clock
        self._provider_busy = [self._busy(p.time_off + p.booked) for p in problem.providers]
        self._patient_busy = [self._busy(p.booked) for p in problem.patients]
        self._provider_free: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._patient_free: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._room_blocked = [self._blocked(room) for room in problem.rooms]
        self.rooms_of: dict[tuple[int, str], list[int]] = {}
        for room in problem.rooms:
            self.rooms_of.setdefault((room.location, room.kind), []).append(room.index)
        self.qualified: dict[str, list[int]] = {}
        for provider in problem.providers:
            for discipline in sorted(provider.disciplines):
                self.qualified.setdefault(discipline, []).append(provider.index)

    def providers_for(self, patient: int, discipline: str) -> list[int]:
        """Who may deliver that discipline to the patient: the required provider alone, if the plan names one."""
        required = self.problem.patients[patient].required_providers.get(discipline)
        if required is None:
            return self.qualified.get(discipline, [])
        return [self.problem.provider(required).index]

    def _busy(self, intervals: list[Dated]) -> tuple[list[int], list[int]]:
        return _merge([(self.clock.minute(i.start), self.clock.minute(i.end)) for i in intervals])

    def _blocked(self, room) -> tuple[list[int], list[int]]:
        """When a room cannot be held at all: its time off, and wherever its bookings fill its capacity."""
        spans = [(self.clock.minute(i.start), self.clock.minute(i.end)) for i in room.time_off]
        events = sorted([(self.clock.minute(i.start), 1) for i in room.booked]
                        + [(self.clock.minute(i.end), -1) for i in room.booked])
        load, full_since = 0, None
        for t, step in events:
            load += step
            if load >= room.capacity and full_since is None:
                full_since = t
            elif load < room.capacity and full_since is not None:
                if t > full_since:
                    spans.append((full_since, t))
                full_since = None
        return _merge(spans)

    def _windows(self, windows: list[Window], day: int, location: int | None = None) -> list[tuple[int, int]]:
        weekday = self.clock.date(day).weekday()
        return [
            (self.clock.wall_minute(day, w.start), self.clock.wall_minute(day, w.end))
            for w in windows
            if w.weekday == weekday and (location is None or w.location == location)
        ]

    def provider_locations(self, provider: int, day: int) -> list[int]:
        """The locations the provider works at on that day (none without the locations extension)."""
        weekday = self.clock.date(day).weekday()
        return sorted({w.location for w in self.problem.providers[provider].weekly
                       if w.weekday == weekday and w.location is not None})

    def provider_free_at(self, provider: int, day: int, location: int) -> list[tuple[int, int]]:
        """The provider's free time that day in their windows at that location."""
        windows = self._windows(self.problem.providers[provider].weekly, day, location)
        return _free(windows, self._provider_busy[provider])

    def room_free(self, room: int, intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return _free(intervals, self._room_blocked[room])

    def provider_hours(self, provider: int, day: int) -> list[tuple[int, int]]:
        """The provider's weekly windows on that day, ignoring time off and bookings."""
        return self._windows(self.problem.providers[provider].weekly, day)

    def patient_hours(self, patient: int, day: int) -> list[tuple[int, int]]:
        return self._windows(self.problem.patients[patient].availability, day)

    def provider_free(self, provider: int, day: int) -> list[tuple[int, int]]:
        key = (provider, day)
        if key not in self._provider_free:
            self._provider_free[key] = _free(self.provider_hours(provider, day), self._provider_busy[provider])
        return self._provider_free[key]

    def patient_free(self, patient: int, day: int) -> list[tuple[int, int]]:
        key = (patient, day)
        if key not in self._patient_free:
            self._patient_free[key] = _free(self.patient_hours(patient, day), self._patient_busy[patient])
        return self._patient_free[key]

    def patient_unbooked(self, patient: int, day: int) -> list[tuple[int, int]]:
        """The whole day minus the patient's own bookings, ignoring their windows."""
        whole = [(self.clock.wall_minute(day, 0), self.clock.wall_minute(day, 1440))]
        return _free(whole, self._patient_busy[patient])

    def starts_within(self, intervals: list[tuple[int, int]], day: int, minutes: int) -> list[int]:
        """Grid starts on that day of a session lying wholly inside one of the intervals."""
        grid = self.clock.grid(day)
        starts = []
        for low, high in intervals:
            first = bisect.bisect_left(grid, low)
            last = bisect.bisect_right(grid, high - minutes)
            starts.extend(grid[first:last])
        return starts

    def days(self, demand: Demand) -> range:
        return range(max(demand.first_day, 0), min(demand.end_day, self.clock.days))

    def options(self, demand: Demand) -> list[Option]:
        """Every (provider, start) for one session of the demand, earliest first.

        With the extensions, an in-person option also names its location (the provider's window's, one
        the patient accepts) and, for a line with a room kind, one room of that kind there free for the
        whole session; a virtual option names neither and may use any of the provider's windows."""
        options = []
        simple = not self.problem.locations and demand.room_kind is None
        accepted = self.problem.patients[demand.patient].locations
        for day in self.days(demand):
            patient_free = self.patient_free(demand.patient, day)
            if not patient_free:
                continue
            for provider in self.providers_for(demand.patient, demand.discipline):
                if demand.in_person and simple:
                    both = intersect(self.provider_free(provider, day), patient_free)
                    for start in self.starts_within(both, day, demand.minutes):
                        options.append(Option(provider, start, start + demand.minutes, day))
                elif demand.in_person:
                    places = self.provider_locations(provider, day) if self.problem.locations else [-1]
                    for location in places:
                        if accepted is not None and location not in accepted:
                            continue
                        free = self.provider_free_at(provider, day, location) if location >= 0 \
                            else self.provider_free(provider, day)
                        both = intersect(free, patient_free)
                        if demand.room_kind is None:
                            for start in self.starts_within(both, day, demand.minutes):
                                options.append(Option(provider, start, start + demand.minutes, day, location))
                            continue
                        for room in self.rooms_of.get((location, demand.room_kind), []):
                            for start in self.starts_within(self.room_free(room, both), day, demand.minutes):
                                options.append(Option(provider, start, start + demand.minutes, day, location, room))
                if demand.virtual:
                    both = intersect(self.provider_free(provider, day), patient_free)
                    for start in self.starts_within(both, day, demand.minutes):
                        options.append(Option(provider, start, start + demand.minutes, day, -1, -1, True))
        options.sort(key=lambda o: (o.start, o.provider))
        return options

