"""A provider's free and busy time as FHIR Slots, computed from their hours, absences and appointments.

Nothing is stored: a Slot's id encodes its schedule and its bounds
(`<provider>-<start>-<end>`, UTC to the minute), so reading one by id
recomputes that day and finds it again, or answers 404 once it changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from careplan.clinic.service import zone
from careplan.db import naive_utc
from careplan.extensions import db
from careplan.providers.models import Provider, ProviderAvailability, ProviderTimeOff, provider_disciplines
from careplan.schemas import plausible
from careplan.scheduling.models import Appointment, overlapping

_STAMP = "%Y%m%d%H%M"
# No span this module makes is longer: free time lies inside one day's window, an appointment is at most a
# working day. A longer id names no Slot, and reading it would otherwise recompute every day in between.
LONGEST_SLOT = timedelta(days=1)


class SlotSpan(NamedTuple):
    """A stretch of one provider's time. `start` and `end` are naive UTC, as the rows are read: a day's search
    at a network's scale compares thousands of times, and aware ones were each converted and compared through
    their zones. `bounds` gives them aware. The fields are in the order Slots are listed (by start, then
    provider, end and status), so that spans compare in that order as plain tuples: `provider_spans` makes
    those, a day's search at a network's scale a thousand and more of them, and only the page's become
    SlotSpans."""

    start: datetime
    provider_id: int
    end: datetime
    status: str
    disciplines: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.provider_id}-{self.start:{_STAMP}}-{self.end:{_STAMP}}"

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return _aware(self.start, self.end)


def in_naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _aware(*naive: datetime) -> tuple[datetime, ...]:
    return tuple(moment.replace(tzinfo=timezone.utc) for moment in naive)


def parse_slot_id(slot_id: str) -> tuple[int, datetime, datetime] | None:
    parts = slot_id.split("-")
    if len(parts) != 3 or not parts[0].isdigit() or int(parts[0]) > 2**31 - 1:
        return None
    try:
        start, end = (datetime.strptime(p, _STAMP).replace(tzinfo=timezone.utc) for p in parts[1:])
    except ValueError:
        return None
    if not (start < end <= start + LONGEST_SLOT and plausible(start) and plausible(end)):
        return None
    return int(parts[0]), start, end


def _subtract(intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime):
    result = []
    for a, b in intervals:
        if end <= a or b <= start:
            result.append((a, b))
            continue
        if a < start:
            result.append((a, start))
        if end < b:
            result.append((end, b))
    return result


def _clip(intervals, start, end):
    return [(max(a, start), min(b, end)) for a, b in intervals if a < end and start < b]


class Taken(NamedTuple):
    """What takes a provider's time over the range: an appointment's or an absence's bounds in naive UTC (and
    an appointment's discipline), read as plain rows (a tuple: a day's search at a network's scale reads 500)."""

    starts_at: datetime
    ends_at: datetime
    discipline_code: str = ""


@dataclass(frozen=True, slots=True)
class Window:
    day: int
    start: time
    end: time


@dataclass(slots=True)
class Hours:
    """A provider as their slots need them, read as plain rows for many at once (`hours_of`): what
    `provider_slots` reads of a Provider."""

    id: int
    discipline_codes: list[str] = field(default_factory=list)
    availability: list[Window] = field(default_factory=list)


def _rows(statement) -> list:
    """Plain rows on the session's connection: no ORM loading for the hundreds a day's search reads."""
    return db.session.connection().execute(statement).all()


def _among(provider_ids: list[int], chosen: Select | None):
    """What the statements below match the providers against: `chosen`, the statement that selected their ids,
    when the caller has one (a network's 135 ids spelled out as parameters made each statement new to the
    driver, and its preparation cost more than its execution), else the ids."""
    return provider_ids if chosen is None else chosen


# Joined under names of their own: a filter on the providers' disciplines (`Provider.disciplines.any`) is a
# subquery of provider_disciplines that would otherwise be correlated to the joined table.
_CODES, _WINDOWS = provider_disciplines.alias("slot_codes"), aliased(ProviderAvailability, name="slot_windows")


def hours_of(chosen: Select, weekdays: set[int]) -> list[Hours]:
    """The providers `chosen` selects (a statement of their ids), by id, with their disciplines and the weekly
    windows of these weekdays (a day's search lays out one weekday's windows of five), in one statement of a row
    per discipline and window: statements, not these few rows, were what a day's search spent its time on."""
    codes, windows = _CODES, _WINDOWS
    on = (windows.provider_id == Provider.id) & windows.day.in_(weekdays)
    found: dict[int, Hours] = {}
    laid: set[int] = set()
    for provider_id, code, window_id, day, start, end in _rows(
            chosen.add_columns(codes.c.discipline_code, windows.id, windows.day, windows.start, windows.end)
            .outerjoin(codes, codes.c.provider_id == Provider.id).outerjoin(windows, on)
            .order_by(Provider.id, codes.c.discipline_code, windows.id)):
        hours = found.get(provider_id)
        if hours is None:
            hours = found[provider_id] = Hours(provider_id)
        if code is not None and code not in hours.discipline_codes:
            hours.discipline_codes.append(code)
        if window_id is not None and window_id not in laid:
            laid.add(window_id)
            hours.availability.append(Window(day, start, end))
    return list(found.values())


def booked_between(provider_ids: list[int], start: datetime, end: datetime,
                   chosen: Select | None = None) -> dict[int, list[Taken]]:
    """The appointments that take up these providers' time over [start, end), by provider, in one statement."""
    found: dict[int, list[Taken]] = {provider_id: [] for provider_id in provider_ids}
    for provider_id, *taken in _rows(
            select(Appointment.provider_id, naive_utc(Appointment.starts_at), naive_utc(Appointment.ends_at),
                   Appointment.discipline_code)
            .where(Appointment.provider_id.in_(_among(provider_ids, chosen)),
                   Appointment.status != "cancelled", overlapping(Appointment, start, end))
            .order_by(Appointment.starts_at)):
        if provider_id in found:
            found[provider_id].append(Taken(*taken))
    return found


def away_between(provider_ids: list[int], start: datetime, end: datetime,
                 chosen: Select | None = None) -> dict[int, list[Taken]]:
    """These providers' absences over [start, end), by provider, in one statement (not their whole history)."""
    found: dict[int, list[Taken]] = {provider_id: [] for provider_id in provider_ids}
    for provider_id, *taken in _rows(
            select(ProviderTimeOff.provider_id, naive_utc(ProviderTimeOff.starts_at),
                   naive_utc(ProviderTimeOff.ends_at))
            .where(ProviderTimeOff.provider_id.in_(_among(provider_ids, chosen)),
                   ProviderTimeOff.starts_at < end, start < ProviderTimeOff.ends_at)):
        if provider_id in found:
            found[provider_id].append(Taken(*taken))
    return found


@lru_cache(maxsize=4096)
def _in_utc(day: date, start: time, end: time, tz: tzinfo) -> tuple[datetime, datetime]:
    """A weekly window on a day, in naive UTC: a clinic's clinicians share a handful of windows, so a day's
    search converts each once, not once per clinician."""
    return in_naive_utc(datetime.combine(day, start, tzinfo=tz)), in_naive_utc(datetime.combine(day, end, tzinfo=tz))


def local_days(start: datetime, end: datetime, tz: tzinfo) -> list[date]:
    """The clinic's days whose weekly windows `provider_slots` lays over [start, end)."""
    first, last = start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@lru_cache(maxsize=1024)
def _working(windows: tuple[tuple[int, time, time], ...], start: datetime, end: datetime,
             tz: tzinfo) -> tuple[tuple[datetime, datetime], ...]:
    """Weekly windows (day, start, end) laid over [start, end), in naive UTC: most of a clinic's clinicians share
    their hours, so a day's search lays each set of windows out once, not once per clinician."""
    by_weekday: dict[int, list[tuple[time, time]]] = {}
    for day, first, last in windows:
        by_weekday.setdefault(day, []).append((first, last))
    working = []
    for day in local_days(start, end, tz):
        working += [_in_utc(day, first, last, tz) for first, last in by_weekday.get(day.weekday(), ())]
    return tuple(_clip(working, start, end))


def _free(working, booked: list[Taken]) -> list[tuple[datetime, datetime]]:
    """The working pieces less the appointments (`booked`, by start), in one pass over each piece: taking the
    appointments out one at a time rebuilt every piece for each of them. Each piece is cut on its own, so two
    pieces that touch stay two Slots, as before."""
    free = []
    for low, high in working:
        cursor = low
        for starts_at, ends_at, _ in booked:
            if starts_at >= high:
                break
            if ends_at <= cursor:
                continue
            if starts_at > cursor:
                free.append((cursor, starts_at))
            cursor = ends_at
            if cursor >= high:
                break
        if cursor < high:
            free.append((cursor, high))
    return free


def provider_spans(provider: Provider | Hours, start: datetime, end: datetime, booked: list[Taken] | None = None,
                   away: list[Taken] | None = None, tz: tzinfo | None = None) -> list[tuple]:
    """`provider_slots` as plain tuples of SlotSpan's fields, in no particular order, for a caller that orders the
    spans of many providers together.
    `start` and `end` are naive UTC (a day's search converts them once for all its providers); `booked`, when
    given, is by start (as `booked_between` reads it); `tz`, the clinic's zone, when the caller has it at hand."""
    # Computed in naive UTC: comparing times of the clinic's zone asks the zone for each one's offset, and a
    # day's search at a network's scale (135 clinicians) compares thousands of them.
    working = _working(tuple((w.day, w.start, w.end) for w in provider.availability), start, end, tz or zone())
    codes = tuple(provider.discipline_codes)
    spans = []
    if away is None:
        away = [Taken(in_naive_utc(off.starts_at), in_naive_utc(off.ends_at)) for off in provider.time_off]
    for off in away:
        for a, b in _clip(working, off.starts_at, off.ends_at):
            spans.append((a, provider.id, b, "busy-unavailable", codes))
        working = _subtract(working, off.starts_at, off.ends_at)
    if booked is None:
        booked = booked_between([provider.id], *_aware(start, end))[provider.id]
    who = provider.id
    spans += [(max(starts_at, start), who, min(ends_at, end), "busy", (code,)) for starts_at, ends_at, code in booked]
    spans += [(a, who, b, "free", codes) for a, b in _free(working, booked)]
    return spans


def provider_slots(provider: Provider, start: datetime, end: datetime) -> list[SlotSpan]:
    """One provider's free working time, absences within working hours (busy-unavailable) and appointments
    (busy), in order, their appointments read here (a day's search reads many providers' at once)."""
    return [SlotSpan(*span) for span in sorted(provider_spans(provider, in_naive_utc(start), in_naive_utc(end)))]
