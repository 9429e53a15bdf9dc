"""The clinic calendar: a day as a grid of clinicians and slots, a clinician's week, what needs attention,
finding a patient forgivingly, another time for an appointment, and the plan sessions still to book.

Everything here reads; changes go through careplan.scheduling (book, move, status, check-in) so the
calendar keeps exactly the API's rules. A day grid costs a fixed number of statements however many
appointments it shows (see `day_grid`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext, ngettext
from rapidfuzz import fuzz, process, utils
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from careplan.caller import Caller
from careplan.audit.service import record
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.errors import Invalid, NotFound
from careplan.extensions import db
from careplan.patients.models import Patient
# After the patients' model: an intake's mapper names Patient.
from careplan.i18n import away_span, short_day
from careplan.intake.models import RED_FLAGS
from careplan.intake.service import overrider_names, red_flags_waiting, screens_for_the_desk
from careplan.plans.models import WITH_LINES_AND_TEAM, CarePlan
from careplan.proposals.holds import holds_in_force
from careplan.proposals.models import HeldSlot, Proposal
from careplan.providers.models import Provider, ProviderAvailability, ProviderTimeOff, provider_disciplines
from careplan.rooms.service import list_locations
from careplan.scheduling import attention, service as scheduling
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment, overlapping

# Statuses shown on the grid: a cancelled appointment frees its time and leaves the grid.
SHOWN = ("booked", "confirmed", "completed", "no_show")
# When no clinician works that day, the grid still shows a plain clinic day.
DEFAULT_OPENS, DEFAULT_CLOSES = time(8, 0), time(18, 0)
# "Find another time" looks this far ahead and offers this many.
ALTERNATIVE_DAYS = 14
ALTERNATIVES = 8
# A hold about to expire: the front desk still has time to book it.
HOLD_EXPIRING = timedelta(minutes=5)
# Clinicians on one page of the day grid: a network's day (120 clinicians) is read a page at a time, as a desk
# reads it, so the page costs the same for a clinic of 15 or of 500 (issue 19: the day page of 128 columns was
# 1.6 MB of HTML).
COLUMNS_PER_PAGE = 16
# A forgiving search keeps names at least this similar (rapidfuzz WRatio, 0-100).
PATIENT_MATCH = 70
PATIENT_MATCHES = 10


# --- the day grid ---------------------------------------------------------------------------------------
#
# The grid reads plain rows, never ORM objects: a day of 40 clinicians shows hundreds of blocks, and building
# an Appointment and a Patient for each costs more than everything else together (`make bench`).


@dataclass(slots=True)
class Clinician:
    """A clinician as the grid shows them: their name, disciplines and weekly windows by weekday (each with
    the location it is at, None for the clinic's only site)."""

    id: int
    name: str
    discipline_codes: list[str] = field(default_factory=list)
    windows: dict[int, list[tuple[time, time, int | None]]] = field(default_factory=dict)


@dataclass(slots=True)
class Booked:
    """An appointment on the grid: its columns and its patient's name, read in one statement."""

    id: int
    patient_id: int
    patient_name: str
    provider_id: int
    discipline_code: str
    kind: str
    status: str
    starts_at: datetime
    ends_at: datetime
    arrived_at: datetime | None
    plan_id: int | None
    phase_name: str | None
    plan_week: int | None
    flag_reason: str | None
    virtual: bool = False
    # The patient's latest screen is a red flag no clinician has judged yet: the desk must know at check-in.
    red_flag: bool = False

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass(slots=True)
class Held:
    """A slot held by a live proposal, with the plan whose schedule page books it."""

    id: int
    proposal_id: int
    plan_id: int
    provider_id: int
    discipline_code: str
    starts_at: datetime
    ends_at: datetime


@dataclass(slots=True)
class Away:
    """A clinician's time off over the grid's days."""

    id: int
    provider_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass
class Column:
    """One clinician's day: when they work, when they are away, what is booked and what is held."""

    provider: Clinician
    hours: list[tuple[datetime, datetime]] = field(default_factory=list)
    time_off: list[Away] = field(default_factory=list)
    appointments: list[Booked] = field(default_factory=list)
    holds: list[Held] = field(default_factory=list)

    def working(self, start: datetime, end: datetime) -> bool:
        return any(s <= start and end <= e for s, e in self.hours)

    def away(self, start: datetime, end: datetime) -> Away | None:
        return next((t for t in self.time_off if t.starts_at < end and start < t.ends_at), None)

    @property
    def bookable(self) -> bool:
        """Some of their hours lie outside every time off: a clinician away all day takes no booking."""
        return any(not any(t.starts_at <= s and e <= t.ends_at for t in self.time_off) for s, e in self.hours)

    @property
    def flagged(self) -> list[Booked]:
        return [a for a in self.appointments if a.flag_reason]


@dataclass(slots=True)
class Cell:
    """A slot of a column in the table the page shows without JavaScript."""

    start: datetime
    state: str  # "free", "busy" (an appointment runs on), "appointment", "hold", "away", "closed"
    appointment: Booked | None = None
    hold: Held | None = None
    rows: int = 1


@dataclass
class DayGrid:
    day: date
    slot_minutes: int
    opens: datetime
    closes: datetime
    columns: list[Column]
    # appointment id -> (visit number of the day, sessions in that visit): a visit is one trip to the clinic.
    visits: dict[int, tuple[int, int]]
    discipline: str | None = None
    location_id: int | None = None
    # Which page of the day's clinicians this is (from 1), of how many, and how many clinicians in all.
    page: int = 1
    pages: int = 1
    clinicians: int = 0

    @property
    def times(self) -> list[datetime]:
        step = timedelta(minutes=self.slot_minutes)
        count = int((self.closes - self.opens) / step)
        return [self.opens + i * step for i in range(count)]

    def cells(self, column: Column) -> list[Cell]:
        """The column slot by slot; an appointment's or a hold's first slot spans as many rows as it lasts.

        One sweep over the column's items in time order (a grid of 40 clinicians draws thousands of cells)."""
        step = timedelta(minutes=self.slot_minutes)
        # Appointments before holds at the same time: a held slot under a booking is the booking's.
        items = sorted([(a.starts_at, a.ends_at, 0, a) for a in column.appointments]
                       + [(h.starts_at, h.ends_at, 1, h) for h in column.holds], key=lambda i: (i[0], i[2]))
        away = sorted((t.starts_at, t.ends_at) for t in column.time_off)
        hours = column.hours
        cells: list[Cell] = []
        covered_until = self.opens
        position = 0
        for start in self.times:
            end = start + step
            if start < covered_until:
                cells.append(Cell(start, "busy"))
                continue
            while position < len(items) and items[position][1] <= start:
                position += 1
            if position < len(items) and items[position][0] < end:
                item_start, item_end, is_hold, item = items[position]
                covered_until = max(item_end, end)
                rows = max(1, -(-int((min(item_end, self.closes) - start).total_seconds())
                                // (60 * self.slot_minutes)))
                cells.append(Cell(start, "hold" if is_hold else "appointment",
                                  None if is_hold else item, item if is_hold else None, rows))
                position += 1
            elif any(s < end and start < e for s, e in away):
                cells.append(Cell(start, "away"))
            elif not any(s <= start and end <= e for s, e in hours):
                cells.append(Cell(start, "closed"))
            else:
                cells.append(Cell(start, "free"))
        return cells


def _hours_on(clinician: Clinician, day: date, location_id: int | None = None) -> list[tuple[datetime, datetime]]:
    """Their hours that day; at one location only when it is given."""
    return [(clinic.local_datetime(day, s), clinic.local_datetime(day, e))
            for s, e, where in clinician.windows.get(day.weekday(), ()) if location_id is None or where == location_id]


def visit_numbers(appointments: list[Booked]) -> dict[int, tuple[int, int]]:
    """Number each patient's trips to the clinic of each day (1, 2, ... per patient and day, never counted
    across patients or days): a patient's sessions follow each other within the longest wait. A video session
    is no trip: it is in none."""
    longest_wait = timedelta(minutes=clinic.settings().max_wait_minutes)
    trips: dict[tuple[int, date], list[list[Booked]]] = {}
    for appointment in sorted(appointments, key=lambda a: (a.starts_at, a.id)):
        if appointment.virtual:
            continue
        days_trips = trips.setdefault((appointment.patient_id, clinic.to_local(appointment.starts_at).date()), [])
        if not days_trips or appointment.starts_at - days_trips[-1][-1].ends_at > longest_wait:
            days_trips.append([])
        days_trips[-1].append(appointment)
    return {a.id: (number, len(trip)) for days_trips in trips.values()
            for number, trip in enumerate(days_trips, start=1) for a in trip}


def _providers(discipline: str | None, provider_id: int | None = None) -> list[Provider]:
    query = (select(Provider).where(Provider.active.is_(True))
             .options(selectinload(Provider.disciplines), selectinload(Provider.availability))
             .order_by(Provider.name, Provider.id))
    if discipline:
        query = query.where(Provider.disciplines.any(code=discipline))
    if provider_id is not None:
        query = query.where(Provider.id == provider_id)
    return list(db.session.scalars(query))


def _clinicians(discipline: str | None, provider_id: int | None = None) -> list[Clinician]:
    """The active clinicians (of a discipline, or one of them) by name, with disciplines and weekly windows:
    three statements of plain rows."""
    query = select(Provider.id, Provider.name).where(Provider.active.is_(True)).order_by(Provider.name, Provider.id)
    if discipline:
        query = query.where(Provider.disciplines.any(code=discipline))
    if provider_id is not None:
        query = query.where(Provider.id == provider_id)
    found = {pid: Clinician(pid, name) for pid, name in db.session.execute(query)}
    if not found:
        return []
    ids = list(found)
    for pid, code in db.session.execute(select(provider_disciplines.c.provider_id, provider_disciplines.c.discipline_code)
                                        .where(provider_disciplines.c.provider_id.in_(ids))
                                        .order_by(provider_disciplines.c.provider_id,
                                                  provider_disciplines.c.discipline_code)):
        found[pid].discipline_codes.append(code)
    for pid, weekday, start, end, where in db.session.execute(
            select(ProviderAvailability.provider_id, ProviderAvailability.day, ProviderAvailability.start,
                   ProviderAvailability.end, ProviderAvailability.location_id)
            .where(ProviderAvailability.provider_id.in_(ids))
            .order_by(ProviderAvailability.provider_id, ProviderAvailability.day, ProviderAvailability.start)):
        found[pid].windows.setdefault(weekday, []).append((start, end, where))
    return list(found.values())



def _between(start: datetime, end: datetime, provider_ids: list[int] | None, location_id: int | None = None):
    """Appointments with their patients' names, time off and holds in force over [start, end) (at a location,
    when given, or at none): three statements of plain rows."""
    appointments = (select(Appointment.id, Appointment.patient_id, Patient.name, Appointment.provider_id,
                           Appointment.discipline_code, Appointment.kind, Appointment.status, Appointment.starts_at,
                           Appointment.ends_at, Appointment.arrived_at, Appointment.plan_id, Appointment.phase_name,
                           Appointment.plan_week, Appointment.flag_reason, Appointment.virtual)
                    .join(Patient, Patient.id == Appointment.patient_id)
                    .where(overlapping(Appointment, start, end), Appointment.status.in_(SHOWN))
                    .order_by(Appointment.starts_at, Appointment.id))
    away = (select(ProviderTimeOff.id, ProviderTimeOff.provider_id, ProviderTimeOff.starts_at, ProviderTimeOff.ends_at,
                   ProviderTimeOff.reason)
            .where(ProviderTimeOff.starts_at < end, start < ProviderTimeOff.ends_at)
            .order_by(ProviderTimeOff.starts_at, ProviderTimeOff.id))
    held = (holds_in_force(utcnow()).with_only_columns(
                HeldSlot.id, HeldSlot.proposal_id, Proposal.plan_id, HeldSlot.provider_id, HeldSlot.discipline_code,
                HeldSlot.starts_at, HeldSlot.ends_at)
            .where(overlapping(HeldSlot, start, end)).order_by(HeldSlot.starts_at, HeldSlot.id))
    if provider_ids is not None:
        appointments = appointments.where(Appointment.provider_id.in_(provider_ids))
        away = away.where(ProviderTimeOff.provider_id.in_(provider_ids))
        held = held.where(HeldSlot.provider_id.in_(provider_ids))
    if location_id is not None:
        appointments = appointments.where(or_(Appointment.location_id == location_id, Appointment.location_id.is_(None)))
        held = held.where(or_(HeldSlot.location_id == location_id, HeldSlot.location_id.is_(None)))
    return ([Booked(*row) for row in db.session.execute(appointments)],
            [Away(*row) for row in db.session.execute(away)],
            [Held(*row) for row in db.session.execute(held)])


def _mark_red_flags(appointments: list[Booked]) -> None:
    """Mark the appointments of patients with a red flag waiting for a clinician (one statement, none for an
    empty day)."""
    if not appointments:
        return
    waiting = {i.patient_id for i in red_flags_waiting({a.patient_id for a in appointments})}
    for appointment in appointments:
        appointment.red_flag = appointment.patient_id in waiting


def _booked_on(start: datetime, end: datetime, location_id: int | None) -> set[int]:
    """The clinicians with an appointment shown (at that location, when given) or a slot held over [start,
    end): one statement, so a clinician booked outside their hours still gets their column."""
    appointments = (select(Appointment.provider_id)
                    .where(overlapping(Appointment, start, end), Appointment.status.in_(SHOWN)))
    held = holds_in_force(utcnow()).with_only_columns(HeldSlot.provider_id).where(overlapping(HeldSlot, start, end))
    if location_id is not None:
        appointments = appointments.where(Appointment.location_id == location_id)
        held = held.where(HeldSlot.location_id == location_id)
    return set(db.session.scalars(appointments.union(held)))


def day_grid(day: date, *, discipline: str | None = None, location_id: int | None = None,
             page: int = 1) -> DayGrid:
    """The clinic's day, COLUMNS_PER_PAGE clinicians at a time (`page`, from 1; past the last page, the last):
    a column per active clinician (of a discipline, at a location, when given) who works that day or has
    something booked or held on it.

    Statements: the settings, the clinicians with their disciplines and hours (3), who is booked that day (1),
    the page's appointments with their patients' names (1), time off (1), holds with their plans (1): the same
    for 5 appointments or 5,000, and the page's work the same for 15 clinicians or 500."""
    if discipline and discipline not in clinic.discipline_codes():
        raise Invalid("No such discipline.", fields={"discipline": f"unknown discipline '{discipline}'"})
    if page < 1:
        raise Invalid("Pages count from 1.", fields={"page": "must be 1 or more"})
    # Held while the grid is built: the session's identity map then answers every later clinic.settings().
    settings = clinic.settings()
    if location_id is not None and not any(place.id == location_id for place in list_locations(include_inactive=False)):
        raise Invalid("No such location.", fields={"location_id": f"no open location {location_id}"})
    start, end = clinic.local_day_bounds(day)
    booked = _booked_on(start, end, location_id)
    shown = [c for c in _clinicians(discipline) if c.id in booked or _hours_on(c, day, location_id)]
    pages = max(1, -(-len(shown) // COLUMNS_PER_PAGE))
    page = min(page, pages)
    chosen = shown[(page - 1) * COLUMNS_PER_PAGE: page * COLUMNS_PER_PAGE]
    appointments, away, held = _between(start, end, [c.id for c in chosen], location_id)
    columns = {c.id: Column(c, _hours_on(c, day, location_id)) for c in chosen}
    for appointment in appointments:
        columns[appointment.provider_id].appointments.append(appointment)
    for absence in away:
        columns[absence.provider_id].time_off.append(absence)
    for hold in held:
        columns[hold.provider_id].holds.append(hold)
    _mark_red_flags(appointments)
    listed = list(columns.values())
    return DayGrid(day, settings.slot_minutes, *_opening(day, listed), listed,
                   visit_numbers(_patients_day(start, end, {a.patient_id for a in appointments})),
                   discipline, location_id, page, pages, len(shown))


@dataclass(slots=True)
class _Session:
    id: int
    patient_id: int
    starts_at: datetime
    ends_at: datetime
    virtual: bool


def _patients_day(start: datetime, end: datetime, patient_ids: set[int]) -> list[_Session]:
    """These patients' sessions of the day with every clinician (one statement, none for an empty page): a
    visit is numbered over them all, not only over the clinicians on this page."""
    if not patient_ids:
        return []
    return [_Session(*row) for row in db.session.execute(
        select(Appointment.id, Appointment.patient_id, Appointment.starts_at, Appointment.ends_at, Appointment.virtual)
        .where(Appointment.patient_id.in_(patient_ids), overlapping(Appointment, start, end),
               Appointment.status.in_(SHOWN)))]


def _opening(day: date, columns: list[Column]) -> tuple[datetime, datetime]:
    """From the first clinician's start to the last one's end (and whatever is booked outside), on the grid."""
    starts = [s for c in columns for s, _ in c.hours] + [a.starts_at for c in columns for a in c.appointments]
    ends = [e for c in columns for _, e in c.hours] + [a.ends_at for c in columns for a in c.appointments]
    opens = min(starts, default=clinic.local_datetime(day, DEFAULT_OPENS))
    closes = max(ends, default=clinic.local_datetime(day, DEFAULT_CLOSES))
    slot = clinic.settings().slot_minutes
    local = clinic.to_local(opens)
    opens -= timedelta(minutes=(local.hour * 60 + local.minute) % slot, seconds=local.second)
    # Whole slots to the end, so the last appointment's end is on the grid.
    overshoot = int((closes - opens).total_seconds() // 60) % slot
    if overshoot:
        closes += timedelta(minutes=slot - overshoot)
    return opens, closes


@dataclass
class WeekGrid:
    provider: Clinician
    days: list[DayGrid]


def week_grid(provider_id: int, day: date) -> WeekGrid:
    """One clinician's Monday-to-Sunday, each day as a one-column grid on the same hours."""
    found = _clinicians(None, provider_id)
    if not found:
        raise NotFound(f"No active provider {provider_id}.")
    provider = found[0]
    settings = clinic.settings()
    monday = day - timedelta(days=day.weekday())
    start, _ = clinic.local_day_bounds(monday)
    _, end = clinic.local_day_bounds(monday + timedelta(days=6))
    appointments, away, held = _between(start, end, [provider.id])
    _mark_red_flags(appointments)
    columns = []
    for offset in range(7):
        current = monday + timedelta(days=offset)
        first, last = clinic.local_day_bounds(current)
        columns.append((current, Column(provider, _hours_on(provider, current),
                                        [t for t in away if t.starts_at < last and first < t.ends_at],
                                        [a for a in appointments if first <= a.starts_at < last],
                                        [h for h in held if first <= h.starts_at < last])))
    opens, closes = _week_hours(columns)
    days = [DayGrid(current, settings.slot_minutes, *_on(current, opens, closes), [column],
                    visit_numbers(column.appointments)) for current, column in columns]
    return WeekGrid(provider, days)


def _week_hours(columns: list[tuple[date, Column]]) -> tuple[int, int]:
    """The week's rows, as minutes after local midnight: from the earliest start of a day the clinician works
    (or has something booked) to the latest end, so every day shows the same hours and a day that ends early
    shows its evening closed (a day off on the grid's default hours once stretched the week past the
    clinician's evenings, shown free)."""
    spans = [(current, *_opening(current, [column])) for current, column in columns
             if column.hours or column.appointments]
    spans = spans or [(current, *_opening(current, [column])) for current, column in columns]

    def minutes(current: date, moment: datetime) -> int:
        local = clinic.to_local(moment)
        return (local.date() - current).days * 1440 + local.hour * 60 + local.minute

    return (min(minutes(current, opens) for current, opens, _ in spans),
            max(minutes(current, closes) for current, _, closes in spans))


def _on(day: date, opens: int, closes: int) -> tuple[datetime, datetime]:
    def at(minutes: int) -> datetime:
        if minutes >= 1440:
            return clinic.local_day_bounds(day)[1]
        return clinic.local_datetime(day, time(minutes // 60, minutes % 60))

    return at(opens), at(closes)


# --- needs attention ------------------------------------------------------------------------------------

# How far ahead the desk is told of video sessions that still have no link to send.
VIDEO_LINK_AHEAD = timedelta(days=14)


@dataclass
class Attention:
    kind: str  # "failed_email", "hold_expiring", "unscheduled", "flagged", "video_link", ...
    title: str
    detail: str
    step: str  # the one next step, as a link's words
    link: str
    patient_id: int | None = None


def needs_attention(*, now: datetime | None = None, limit: int = 50) -> list[Attention]:
    """One list with each item's next step: appointments a change of hours or time off left outside them
    (careplan.scheduling.attention), red flags waiting for a clinician, failed e-mails, holds about to expire, booked or active plans with
    sessions no appointment answers yet, and drafted plans with nothing booked."""
    from careplan.reminders.models import OutboundEmail

    now = now or utcnow()
    items: list[Attention] = []
    items += _flagged_attention(now, limit)
    waiting, cleared = screens_for_the_desk()
    cleared = cleared[:limit]
    # A red flag stops care: its patient's plans are not offered to schedule (the red flag's item says why).
    stopped = {screen.patient_id for screen in waiting}
    screens = waiting[:limit]
    named = {s.patient_id for s in screens + cleared}
    names = dict(db.session.execute(select(Patient.id, Patient.name)
                                    .where(Patient.id.in_(named))).all()) if named else {}
    for screen in screens:
        flags = "; ".join(RED_FLAGS[name].lower() for name in screen.positive_red_flags)
        flags = flags[:1].upper() + flags[1:]
        items.append(Attention("red_flag", gettext("%(name)s: red flag waiting for a clinician",
                                                   name=names.get(screen.patient_id) or gettext("A patient")),
                               gettext("%(flags)s; no plan or plan session until a clinician judges it.",
                                       flags=flags),
                               gettext("The screen"), f"/desk/intakes/{screen.id}", screen.patient_id))
    judges = overrider_names(cleared)
    for screen in cleared:
        items.append(Attention("red_flag_cleared", gettext("%(name)s: red flag judged, no care plan yet",
                                                           name=names.get(screen.patient_id)
                                                           or gettext("A patient")),
                               gettext("%(clinician)s judged it on %(day)s: care may begin.",
                                       clinician=judges.get(screen.id) or gettext("A clinician"),
                                       day=short_day(clinic.to_local(screen.overridden_at).date())),
                               gettext("Build the plan"), f"/desk/intakes/{screen.id}", screen.patient_id))
    failed = db.session.scalars(select(OutboundEmail).where(OutboundEmail.status == "failed")
                                .options(selectinload(OutboundEmail.patient))
                                .order_by(OutboundEmail.id.desc()).limit(limit))
    for email in failed:
        items.append(Attention("failed_email", gettext("E-mail to %(name)s failed", name=email.patient.name),
                               email.last_error or gettext("the mail server refused it"), gettext("Fix and send again"),
                               "/desk#failed-emails", email.patient_id))
    expiring = db.session.scalars(holds_in_force(now).where(Proposal.expires_at <= now + HOLD_EXPIRING)
                                  .options(selectinload(HeldSlot.proposal)).order_by(Proposal.expires_at))
    seen: set[int] = set()
    for hold in expiring:
        proposal = hold.proposal
        if proposal.id in seen:
            continue
        seen.add(proposal.id)
        minutes = max(0, int((proposal.expires_at - now).total_seconds() // 60))
        items.append(Attention("hold_expiring", gettext("Proposal %(id)s's held slots expire in %(minutes)s min",
                                                       id=proposal.id, minutes=minutes),
                               gettext("book it now or the slots go back to everyone"), gettext("Review and book"),
                               f"/desk/plans/{proposal.plan_id}/schedule?proposal={proposal.id}", hold.patient_id))
    unlinked = db.session.execute(
        select(Appointment.id, Appointment.patient_id, Patient.name, Appointment.starts_at, Appointment.discipline_code)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Appointment.virtual.is_(True), Appointment.video_link == "",
               Appointment.status.in_(("booked", "confirmed")), Appointment.starts_at >= now,
               Appointment.starts_at < now + VIDEO_LINK_AHEAD)
        .order_by(Appointment.starts_at).limit(limit))
    for appointment_id, patient_id, name, starts_at, code in unlinked:
        # The patient's e-mails said the clinic would send the link; nobody has yet.
        items.append(Attention("video_link", gettext("%(name)s: video session without a link", name=name),
                               gettext("%(discipline)s, %(when)s", discipline=clinic.discipline_name(code),
                                       when=_when(starts_at)),
                               gettext("Give the link"), f"/desk/appointments/{appointment_id}", patient_id))
    for plan, missing in plans_with_unscheduled_sessions(now=now, limit=limit):
        if plan.patient_id in stopped:
            continue
        items.append(Attention("unscheduled", ngettext("%(name)s: %(num)d session not booked",
                                                       "%(name)s: %(num)d sessions not booked", missing,
                                                       name=plan.patient.name),
                               gettext("plan %(id)s, %(status)s", id=plan.id, status=plan.status),
                               gettext("Re-plan"),
                               f"/desk/plans/{plan.id}/schedule", plan.patient_id))
    drafted = db.session.execute(select(CarePlan.id, CarePlan.patient_id, Patient.name, CarePlan.start_date)
                                 .join(Patient, Patient.id == CarePlan.patient_id).where(CarePlan.status == "draft")
                                 .order_by(CarePlan.created_at, CarePlan.id).limit(limit))
    for plan_id, patient_id, patient, start_date in drafted:
        if patient_id in stopped:
            continue
        items.append(Attention("to_schedule", gettext("%(name)s: care plan drafted, nothing booked yet", name=patient),
                               gettext("plan %(id)s, to start %(day)s", id=plan_id, day=short_day(start_date)),
                               gettext("Propose a schedule"),
                               f"/desk/plans/{plan_id}/schedule", patient_id))
    return items


def _when(moment: datetime) -> str:
    local = clinic.to_local(moment)
    return f"{short_day(local.date())} {local:%H:%M}"


def _flagged_attention(now: datetime, limit: int) -> list[Attention]:
    """Appointments a change left outside their clinician's hours or inside a time off. Those inside one
    absence are one item whose next step is that absence's re-plan (every plan it touches at once); one
    left outside changed hours is its own item: another time for it. Two statements."""
    rows = db.session.execute(
        attention.flagged_appointments(starts_from=now)
        .with_only_columns(Appointment.id, Appointment.patient_id, Patient.name, Appointment.provider_id,
                           Provider.name, Appointment.starts_at, Appointment.ends_at, Appointment.flag_reason)
        .join(Patient, Patient.id == Appointment.patient_id).join(Provider, Provider.id == Appointment.provider_id)
        .limit(limit)).all()
    if not rows:
        return []
    absences = list(db.session.execute(
        select(ProviderTimeOff.id, ProviderTimeOff.provider_id, ProviderTimeOff.starts_at, ProviderTimeOff.ends_at,
               ProviderTimeOff.reason)
        .where(ProviderTimeOff.provider_id.in_({r.provider_id for r in rows}),
               ProviderTimeOff.starts_at < max(r.ends_at for r in rows),
               ProviderTimeOff.ends_at > min(r.starts_at for r in rows))
        .order_by(ProviderTimeOff.starts_at)))
    inside: dict[int, list] = {}
    items: list[Attention] = []
    for row in rows:
        absence = next((t for t in absences if t.provider_id == row.provider_id
                        and t.starts_at < row.ends_at and row.starts_at < t.ends_at), None)
        if absence is not None:
            inside.setdefault(absence.id, []).append(row)
            continue
        reason = row.flag_reason[:1].upper() + row.flag_reason[1:]
        items.append(Attention("flagged", gettext("%(patient)s, %(when)s with %(clinician)s: needs a new time",
                                                  patient=row[2], when=_when(row.starts_at), clinician=row[4]),
                               gettext("%(reason)s; its reminders are held.", reason=reason),
                               gettext("Find another time"),
                               f"/desk/appointments/{row.id}?another=1#another", row.patient_id))
    for absence in absences:
        touched = inside.get(absence.id)
        if not touched:
            continue
        count = len(touched)
        patients = ", ".join(dict.fromkeys(r[2] for r in touched))
        if absence.reason:
            title = ngettext("%(name)s is away (%(reason)s): %(num)d appointment needs a new time",
                             "%(name)s is away (%(reason)s): %(num)d appointments need a new time", count,
                             name=touched[0][4], reason=absence.reason)
        else:
            title = ngettext("%(name)s is away: %(num)d appointment needs a new time",
                             "%(name)s is away: %(num)d appointments need a new time", count, name=touched[0][4])
        items.append(Attention(
            "flagged", title,
            gettext("%(span)s: %(patients)s; their reminders are held.",
                    span=away_span(absence.starts_at, absence.ends_at), patients=patients),
            gettext("Re-plan around the absence"),
            f"/admin/providers/{absence.provider_id}/time-off/{absence.id}/replan",
            touched[0].patient_id))
    return items


def _missing_per_line(plan: CarePlan, booked: Counter, from_week: int) -> list[dict]:
    """The plan's sessions, week by week from `from_week`, that no appointment answers; first its opening
    assessment, whatever the week, when none is booked (cancelled, its sessions would run without one)."""
    missing = []
    if plan.assessment_discipline and not booked[(plan.assessment_discipline, None, None)]:
        missing.append({"plan_id": plan.id, "phase": None, "week": None, "kind": "assessment",
                        "discipline": plan.assessment_discipline, "minutes": plan.assessment_minutes,
                        "missing": 1, "monday": plan.week_zero})
    for phase in plan.phases:
        for week in range(max(phase.first_week, from_week), phase.first_week + phase.weeks):
            for line in phase.lines:
                if not line.due_in(week):
                    continue
                wanting = line.per_week - booked[(line.discipline_code, phase.name, week)]
                if wanting > 0:
                    missing.append({"plan_id": plan.id, "phase": phase.name, "week": week, "kind": "treatment",
                                    "discipline": line.discipline_code, "minutes": line.minutes,
                                    "missing": wanting, "monday": plan.week_zero + timedelta(weeks=week)})
    return missing


def _booked_counts(plan_ids: list[int]) -> dict[int, Counter]:
    counts: dict[int, Counter] = {pid: Counter() for pid in plan_ids}
    if not plan_ids:
        return counts
    rows = db.session.execute(select(Appointment.plan_id, Appointment.discipline_code, Appointment.phase_name,
                                     Appointment.plan_week)
                              .where(Appointment.plan_id.in_(plan_ids), Appointment.status != "cancelled"))
    for plan_id, discipline, phase, week in rows:
        counts[plan_id][(discipline, phase, week)] += 1
    return counts


def _current_week(plan: CarePlan, today: date) -> int:
    return max(0, (today - plan.week_zero).days // 7)


def plans_with_unscheduled_sessions(*, now: datetime | None = None, limit: int = 50) -> list[tuple[CarePlan, int]]:
    """Booked or active plans with sessions, from this week on, that nothing is booked for."""
    now = now or utcnow()
    today = clinic.to_local(now).date()
    plans = list(db.session.scalars(select(CarePlan).where(CarePlan.status.in_(("booked", "active")))
                                    .options(*WITH_LINES_AND_TEAM, selectinload(CarePlan.patient))
                                    .order_by(CarePlan.start_date, CarePlan.id)))
    counts = _booked_counts([p.id for p in plans])
    found = []
    for plan in plans:
        missing = sum(m["missing"] for m in _missing_per_line(plan, counts[plan.id], _current_week(plan, today)))
        if missing:
            found.append((plan, missing))
    return found[:limit]


def unscheduled_sessions(patient_id: int, *, now: datetime | None = None) -> list[dict]:
    """The sessions of the patient's booked or active plans that nothing answers yet, to attach a booking to."""
    now = now or utcnow()
    today = clinic.to_local(now).date()
    plans = list(db.session.scalars(select(CarePlan).where(CarePlan.patient_id == patient_id,
                                                           CarePlan.status.in_(("booked", "active")))
                                    .options(*WITH_LINES_AND_TEAM).order_by(CarePlan.start_date, CarePlan.id)))
    counts = _booked_counts([p.id for p in plans])
    return [m for plan in plans for m in _missing_per_line(plan, counts[plan.id], _current_week(plan, today))]


def plans_to_schedule(patient_id: int) -> list[CarePlan]:
    """The patient's drafted plans: nothing of them is booked yet, and their sessions are booked together
    from the plan's schedule, not one by one."""
    return list(db.session.scalars(select(CarePlan).where(CarePlan.patient_id == patient_id,
                                                          CarePlan.status == "draft")
                                   .order_by(CarePlan.start_date, CarePlan.id)))


def outside_patient_hours(patient: Patient | None, start: datetime | None, minutes: int) -> bool:
    """Whether a visit asked for lies outside the patient's own weekly hours (when they have given any): the
    booking form says so rather than refuse, since the desk may have agreed the time with the patient."""
    if patient is None or start is None or start.tzinfo is None or not patient.availability:
        return False
    try:
        return not clinic.within_windows(patient.availability, start, start + timedelta(minutes=minutes))
    except OverflowError:  # a start at the end of time, typed or sent: the booking itself refuses it
        return False


# --- finding a patient ----------------------------------------------------------------------------------

def find_patients(q: str, *, limit: int = PATIENT_MATCHES) -> list[Patient]:
    """By name, forgivingly ("kowalsky" finds Kowalski), or by e-mail or phone as typed; best match first."""
    q = q.strip()
    if not q:
        return []
    rows = db.session.execute(select(Patient.id, Patient.name, Patient.email, Patient.phone)).all()
    choices = {pid: name for pid, name, _, _ in rows}
    needle = q.lower()
    exact = [pid for pid, name, email, phone in rows
             if needle in name.lower() or needle in (email or "").lower() or needle in (phone or "")]
    fuzzy = [pid for _, score, pid in process.extract(q, choices, scorer=fuzz.WRatio, processor=utils.default_process,
                                                         limit=limit, score_cutoff=PATIENT_MATCH)]
    ordered = list(dict.fromkeys(exact + fuzzy))[:limit]
    if not ordered:
        return []
    found = {p.id: p for p in db.session.scalars(select(Patient).where(Patient.id.in_(ordered)))}
    return [found[pid] for pid in ordered if pid in found]


# --- another time for an appointment ----------------------------------------------------------------------

@dataclass
class Alternative:
    provider: Provider
    start: datetime
    end: datetime
    same_clinician: bool
    same_visit_day: bool
    inside_windows: bool

    @property
    def score(self) -> int:
        # What the patient keeps, in the order the clinic values it: their clinician, one trip, their hours.
        return 4 * self.same_clinician + 2 * self.same_visit_day + 1 * self.inside_windows


def find_another_time(appointment_id: int, *, now: datetime | None = None, days: int = ALTERNATIVE_DAYS,
                      limit: int = ALTERNATIVES, caller: Caller) -> list[Alternative]:
    """Free slots of the same discipline (the API's free-slot rules), the patient's own busy times left out,
    ranked by what the patient keeps, then the soonest."""
    now = now or utcnow()
    appointment = scheduling.get_appointment(appointment_id)
    record("read", "appointment", appointment.id, appointment.patient_id, detail="another time", caller=caller)
    start = max(now, appointment.starts_at - timedelta(days=days // 2))
    end = start + timedelta(days=days)
    patient = appointment.patient
    others = list(db.session.scalars(select(Appointment).where(
        Appointment.patient_id == patient.id, Appointment.id != appointment.id, Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.starts_at < end, start < Appointment.ends_at)))
    visit_days = {clinic.to_local(a.starts_at).date() for a in others}
    found = []
    for provider in _providers(appointment.discipline_code):
        for slot in scheduling.free_slots(provider.id, start, end, appointment.minutes, now=now):
            if provider.id == appointment.provider_id and slot["start"] == appointment.starts_at:
                continue
            if any(o.starts_at < slot["end"] and slot["start"] < o.ends_at for o in others):
                continue
            found.append(Alternative(provider, slot["start"], slot["end"],
                                     provider.id == appointment.provider_id,
                                     clinic.to_local(slot["start"]).date() in visit_days,
                                     scheduling.within_windows(patient.availability, slot["start"], slot["end"])))
    found.sort(key=lambda a: (-a.score, a.start, a.provider.name))
    return found[:limit]


# --- the grid as a calendar component's feed --------------------------------------------------------------

def session_label(appointment: Appointment | Booked) -> str:
    """The plan session an appointment serves, in the desk's words and language: "plan 12 · acute, week 3"."""
    if appointment.plan_id is None:
        return gettext("single visit")
    if appointment.kind == "assessment":
        return gettext("plan %(plan)s · assessment", plan=appointment.plan_id)
    phase = appointment.phase_name or gettext("session")
    if appointment.plan_week is None:
        return gettext("plan %(plan)s · %(phase)s", plan=appointment.plan_id, phase=phase)
    return gettext("plan %(plan)s · %(phase)s, week %(week)s", plan=appointment.plan_id, phase=phase,
                   week=appointment.plan_week + 1)


def feed(grids: list[DayGrid]) -> dict:
    """Resources (clinicians) and events (appointments, holds, time off, hours outside work) of these days."""
    first = grids[0]
    resources: dict[int, dict] = {}
    events: list[dict] = []
    for grid in grids:
        for column in grid.columns:
            provider = column.provider
            resources.setdefault(provider.id, {"id": provider.id, "title": provider.name,
                                               "disciplines": provider.discipline_codes})
            for appointment in column.appointments:
                number, size = grid.visits.get(appointment.id, (0, 1))
                events.append({
                    "id": f"appointment-{appointment.id}", "kind": "appointment", "appointment_id": appointment.id,
                    "resource_id": provider.id, "start": appointment.starts_at, "end": appointment.ends_at,
                    "patient": appointment.patient_name, "patient_id": appointment.patient_id,
                    "discipline": appointment.discipline_code, "minutes": appointment.minutes,
                    "status": appointment.status, "arrived": appointment.arrived_at is not None,
                    "session": session_label(appointment), "visit": number, "visit_sessions": size,
                    "editable": appointment.status in ACTIVE_STATUSES, "flag": appointment.flag_reason,
                    "red_flag": appointment.red_flag, "virtual": appointment.virtual,
                    "url": f"/desk/appointments/{appointment.id}"})
            for hold in column.holds:
                events.append({"id": f"hold-{hold.id}", "kind": "hold", "resource_id": provider.id,
                               "start": hold.starts_at, "end": hold.ends_at, "discipline": hold.discipline_code,
                               "proposal_id": hold.proposal_id, "editable": False,
                               "url": f"/desk/plans/{hold.plan_id}/schedule?proposal={hold.proposal_id}"})
            for absence in column.time_off:
                events.append({"id": f"away-{absence.id}", "kind": "away", "resource_id": provider.id,
                               "start": max(absence.starts_at, grid.opens), "end": min(absence.ends_at, grid.closes),
                               "editable": False})
            # The hours outside this clinician's windows, shaded like the table's closed cells.
            edge = grid.opens
            for start, end in sorted(column.hours) + [(grid.closes, grid.closes)]:
                if start > edge:
                    events.append({"id": f"closed-{provider.id}-{edge.isoformat()}", "kind": "closed",
                                   "resource_id": provider.id, "start": edge, "end": start, "editable": False})
                edge = max(edge, end)
    return {"date": first.day, "page": first.page, "pages": first.pages,
            "clinicians": first.clinicians if len(grids) == 1 else len(resources), "slot_minutes": first.slot_minutes,
            "opens": min(g.opens for g in grids), "closes": max(g.closes for g in grids),
            "resources": list(resources.values()), "events": events}
