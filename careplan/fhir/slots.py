"""A provider's free and busy time as FHIR Slots, computed from their hours, absences and appointments.

Nothing is stored: a Slot's id encodes its schedule and its bounds
(`<provider>-<start>-<end>`, UTC to the minute), so reading one by id
recomputes that day and finds it again, or answers 404 once it changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from careplan.clinic.service import local_datetime, to_local
from careplan.extensions import db
from careplan.providers.models import Provider
from careplan.schemas import plausible
from careplan.scheduling.models import Appointment, overlapping

_STAMP = "%Y%m%d%H%M"
# No span this module makes is longer: free time lies inside one day's window, an appointment is at most a
# working day. A longer id names no Slot, and reading it would otherwise recompute every day in between.
LONGEST_SLOT = timedelta(days=1)


@dataclass(frozen=True)
class SlotSpan:
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


def booked_between(provider_ids: list[int], start: datetime, end: datetime) -> dict[int, list[Appointment]]:
    """The appointments that take up these providers' time over [start, end), by provider, in one statement."""
    found: dict[int, list[Appointment]] = {provider_id: [] for provider_id in provider_ids}
    for appointment in db.session.scalars(select(Appointment).where(
            Appointment.provider_id.in_(provider_ids), Appointment.status != "cancelled",
            overlapping(Appointment, start, end)).order_by(Appointment.starts_at)):
        found[appointment.provider_id].append(appointment)
    return found


def provider_slots(provider: Provider, start: datetime, end: datetime,
                   booked: list[Appointment] | None = None) -> list[SlotSpan]:
    """Free working time, absences within working hours (busy-unavailable) and appointments (busy), in order.
    `booked`: the provider's appointments over the range when the caller read them for many providers at once
    (`booked_between`); else they are read here."""
    working = []
    day = to_local(start).date() - timedelta(days=1)
    while local_datetime(day, datetime.min.time()) < end:
        for window in provider.availability:
            if window.day == day.weekday():
                working.append((local_datetime(day, window.start), local_datetime(day, window.end)))
        day += timedelta(days=1)
    working = _clip(working, start, end)
    codes = tuple(provider.discipline_codes)
    spans = []
    for off in provider.time_off:
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
