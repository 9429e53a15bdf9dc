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

from careplan.clinic.service import zone
from careplan.extensions import db
from careplan.providers.models import Provider, ProviderAvailability, ProviderTimeOff, provider_disciplines
from careplan.schemas import plausible
from careplan.scheduling.models import Appointment, overlapping

_STAMP = "%Y%m%d%H%M"
# No span this module makes is longer: free time lies inside one day's window, an appointment is at most a
# working day. A longer id names no Slot, and reading it would otherwise recompute every day in between.
LONGEST_SLOT = timedelta(days=1)


class SlotSpan(NamedTuple):
    """A stretch of one provider's time (a tuple: a day's search makes a thousand of them)."""

    provider_id: int
    start: datetime
    end: datetime
    status: str
    disciplines: tuple[str, ...]

    @property
    def id(self) -> str:
        return (f"{self.provider_id}-{self.start.astimezone(timezone.utc):{_STAMP}}-"
                f"{self.end.astimezone(timezone.utc):{_STAMP}}")


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


@dataclass(frozen=True, slots=True)
class Taken:
    """What takes a provider's time over the range: an appointment's or an absence's bounds (and an
    appointment's discipline), read as plain rows."""

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


def hours_of(provider_ids: list[int], chosen: Select | None = None) -> list[Hours]:
    """These providers' disciplines and weekly windows, in the order given: two statements."""
    found = {provider_id: Hours(provider_id) for provider_id in provider_ids}
    if not found:
        return []
    among = _among(provider_ids, chosen)
    for provider_id, code in _rows(
            select(provider_disciplines.c.provider_id, provider_disciplines.c.discipline_code)
            .where(provider_disciplines.c.provider_id.in_(among))
            .order_by(provider_disciplines.c.provider_id, provider_disciplines.c.discipline_code)):
        if provider_id in found:
            found[provider_id].discipline_codes.append(code)
    for provider_id, *window in _rows(
            select(ProviderAvailability.provider_id, ProviderAvailability.day, ProviderAvailability.start,
                   ProviderAvailability.end).where(ProviderAvailability.provider_id.in_(among))):
        if provider_id in found:
            found[provider_id].availability.append(Window(*window))
    return list(found.values())


def booked_between(provider_ids: list[int], start: datetime, end: datetime,
                   chosen: Select | None = None) -> dict[int, list[Taken]]:
    """The appointments that take up these providers' time over [start, end), by provider, in one statement."""
    found: dict[int, list[Taken]] = {provider_id: [] for provider_id in provider_ids}
    for provider_id, *taken in _rows(
            select(Appointment.provider_id, Appointment.starts_at, Appointment.ends_at, Appointment.discipline_code)
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
            select(ProviderTimeOff.provider_id, ProviderTimeOff.starts_at, ProviderTimeOff.ends_at)
            .where(ProviderTimeOff.provider_id.in_(_among(provider_ids, chosen)),
                   ProviderTimeOff.starts_at < end, start < ProviderTimeOff.ends_at)):
        if provider_id in found:
            found[provider_id].append(Taken(*taken))
    return found


@lru_cache(maxsize=4096)
def _in_utc(day: date, start: time, end: time, tz: tzinfo) -> tuple[datetime, datetime]:
    """A weekly window on a day, in UTC: a clinic's clinicians share a handful of windows, so a day's search
    converts each once, not once per clinician."""
    return (datetime.combine(day, start, tzinfo=tz).astimezone(timezone.utc),
            datetime.combine(day, end, tzinfo=tz).astimezone(timezone.utc))


def provider_slots(provider: Provider | Hours, start: datetime, end: datetime, booked: list[Taken] | None = None,
                   away: list[Taken] | None = None) -> list[SlotSpan]:
    """Free working time, absences within working hours (busy-unavailable) and appointments (busy), in order.
    `booked` and `away`: the provider's appointments and absences over the range when the caller read them for
    many providers at once (`booked_between`, `away_between`); else they are read here."""
    # Computed in UTC: comparing times of the clinic's zone asks the zone for each one's offset, and a day's
    # search at a network's scale (135 clinicians) compares thousands of them. The zone is read once.
    tz = zone()
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    by_weekday: dict[int, list[Window]] = {}
    for window in provider.availability:
        by_weekday.setdefault(window.day, []).append(window)
    working = []
    day, last = start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date()
    while day <= last:
        working += [_in_utc(day, window.start, window.end, tz) for window in by_weekday.get(day.weekday(), ())]
        day += timedelta(days=1)
    working = _clip(working, start, end)
    codes = tuple(provider.discipline_codes)
    spans = []
    for off in provider.time_off if away is None else away:
        for a, b in _clip(working, off.starts_at, off.ends_at):
            spans.append(SlotSpan(provider.id, a, b, "busy-unavailable", codes))
        working = _subtract(working, off.starts_at, off.ends_at)
    if booked is None:
        booked = booked_between([provider.id], start, end)[provider.id]
    for appointment in booked:
        spans.append(SlotSpan(provider.id, max(appointment.starts_at, start), min(appointment.ends_at, end),
                              "busy", (appointment.discipline_code,)))
        working = _subtract(working, appointment.starts_at, appointment.ends_at)
    spans += [SlotSpan(provider.id, a, b, "free", codes) for a, b in working]
    return sorted(spans, key=lambda s: (s.start, s.end, s.status))
