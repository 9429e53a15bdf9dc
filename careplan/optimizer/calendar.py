"""The clinic's calendar: local wall times, the slot grid and real minutes.

The solver works on one time axis, real elapsed minutes since the horizon's
first local midnight, so that no-overlap, transition and waiting rules stay
true across a daylight-saving change (an evening appointment after the
clocks spring forward is an hour closer in real time than on the wall).
Wall times that do not exist (the skipped hour) are never offered as starts;
wall times that occur twice (the repeated hour) are offered once per
occurrence.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc


class Clock:
    def __init__(self, timezone: str, horizon_start: dt.date, weeks: int, slot_minutes: int):
        self.zone = ZoneInfo(timezone)
        self.first_day = horizon_start
        self.days = weeks * 7
        self.slot = slot_minutes
        self.origin = self._utc(dt.datetime.combine(horizon_start, dt.time()), 0)
        self._starts: dict[int, int] = {}
        self._grids: dict[int, tuple[int, ...]] = {}

    def _utc(self, wall: dt.datetime, fold: int) -> dt.datetime:
        return wall.replace(tzinfo=self.zone, fold=fold).astimezone(UTC)

    def day_index(self, day: dt.date) -> int:
        return (day - self.first_day).days

    def date(self, day_index: int) -> dt.date:
        return self.first_day + dt.timedelta(days=day_index)

    def minute(self, wall: dt.datetime) -> int:
        """Real minutes since the origin for a local wall time (first occurrence)."""
        return int((self._utc(wall, 0) - self.origin).total_seconds()) // 60

    def wall_minute(self, day_index: int, minute_of_day: int) -> int:
        """Real minutes since the origin for a wall time on a horizon day (24:00 allowed)."""
        if minute_of_day >= 1440:
            return self._day_start(day_index + 1)
        if not self._changes_on(day_index):
            return self._day_start(day_index) + minute_of_day
        return self.minute(dt.datetime.combine(self.date(day_index), dt.time()) + dt.timedelta(minutes=minute_of_day))

    def _day_start(self, day_index: int) -> int:
        if day_index not in self._starts:
            self._starts[day_index] = self.minute(dt.datetime.combine(self.date(day_index), dt.time()))
        return self._starts[day_index]

    def _changes_on(self, day_index: int) -> bool:
        return self._day_start(day_index + 1) - self._day_start(day_index) != 1440

    def grid(self, day_index: int) -> tuple[int, ...]:
        """Real minutes of every start the slot grid allows on that day, in order."""
        if day_index not in self._grids:
            self._grids[day_index] = self._grid(day_index)
        return self._grids[day_index]

    def _grid(self, day_index: int) -> tuple[int, ...]:
        base = self._day_start(day_index)
        if not self._changes_on(day_index):
            return tuple(base + m for m in range(0, 1440, self.slot))
        starts = set()
        midnight = dt.datetime.combine(self.date(day_index), dt.time())
        for m in range(0, 1440, self.slot):
            wall = midnight + dt.timedelta(minutes=m)
            for fold in (0, 1):
                instant = self._utc(wall, fold)
                if instant.astimezone(self.zone).replace(tzinfo=None) == wall:
                    starts.add(int((instant - self.origin).total_seconds()) // 60)
        return tuple(sorted(starts))

    def local(self, minute: int) -> dt.datetime:
        return (self.origin + dt.timedelta(minutes=minute)).astimezone(self.zone)

    def iso(self, minute: int) -> str:
        return self.local(minute).isoformat(timespec="seconds")

    def day_of(self, minute: int) -> int:
        return self.day_index(self.local(minute).date())

    def label(self, minute: int) -> str:
        """A front-desk rendering: 'Thu 2027-01-14 18:00'."""
        return self.local(minute).strftime("%a %Y-%m-%d %H:%M")
