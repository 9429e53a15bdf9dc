"""A patient's own changes to their schedule, callable without HTTP (the caller is an argument).

Each function works on the caller's own appointments only: a patient never names another patient's
record here, so there is nothing to probe.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select

from careplan.audit.service import record
from careplan.caller import Caller
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.errors import Conflict, Forbidden, Invalid, NotFound
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.plans.models import CarePlan
from careplan.providers.models import Provider
from careplan.scheduling.attention import lock_providers
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment
from careplan.scheduling.rooms import location_at
from careplan.scheduling.service import (Booking, check_booking, find_conflicts, free_slots, inside_late_window,
                                         move_to, overlap_guard, within_windows)


def patient_id_of(caller: Caller) -> int:
    if caller.user is None or caller.role != "patient" or caller.user.patient_id is None:
        raise Forbidden("Only a patient acts on their own appointments here.")
    return caller.user.patient_id


def week_bounds(day: date) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 in the clinic's zone, around `day` (the plans' weeks too)."""
    monday = day - timedelta(days=day.weekday())
    return clinic.local_day_bounds(monday)[0], clinic.local_day_bounds(monday + timedelta(days=7))[0]


def confirm_many(caller: Caller, *, week_of: date | None = None, now: datetime | None = None) -> list[Appointment]:
    """Confirm the caller's booked, not yet started appointments that keep their time (not flagged for a new
    one by a clinician's time off or changed hours): those of the clinic week holding `week_of`,
    or all upcoming ones when it is None. Returns the ones confirmed now (already confirmed ones stay as
    they are), all in one transaction."""
    patient_id = patient_id_of(caller)
    if week_of is not None and not date(1900, 1, 8) <= week_of <= date(2999, 12, 24):
        raise Invalid(gettext("No appointments can be in that week."), fields={"week_of": "must be between 1900 and 2999"})
    now = now or utcnow()
    query = (select(Appointment)
             .where(Appointment.patient_id == patient_id, Appointment.status == "booked",
                    Appointment.starts_at > now, Appointment.flag_reason.is_(None))
             .order_by(Appointment.starts_at, Appointment.id))
    if week_of is not None:
        start, end = week_bounds(week_of)
        query = query.where(Appointment.starts_at >= start, Appointment.starts_at < end)
    confirmed = list(db.session.scalars(query))
    scope = f"the week of {week_of.isoformat()}" if week_of is not None else "all upcoming"
    for appointment in confirmed:
        appointment.status = "confirmed"
        record("update", "appointment", appointment.id, patient_id,
               detail=f"confirmed by the patient ({scope}, from the {caller.origin})", caller=caller)
    db.session.commit()
    return confirmed


# --- "I can't make it": the best alternatives for one session, and moving it to one -------------------

# How many alternatives a patient is shown: a few good ones, not a timetable.
ALTERNATIVES_SHOWN = 4


@dataclass(frozen=True)
class Alternative:
    """A time the session could move to, with what the ranking saw in it."""

    provider_id: int
    provider_name: str
    start: datetime
    end: datetime
    same_clinician: bool
    # Trips to the clinic that week after the move, minus before (the optimizer's "visits").
    extra_trips: int
    # On a day the patient already comes in for another session of that week.
    joins_a_visit: bool
    # Waiting between this session and the next or previous one that day, beyond the transition.
    idle_minutes: int
    minutes_away: int

    @property
    def rank(self) -> tuple:
        # The optimizer's objective order once every rule holds: fewer trips, continuity, less waiting;
        # then the time nearest the one the patient had planned around.
        return (self.extra_trips, not self.same_clinician, self.idle_minutes, self.minutes_away, self.start,
                self.provider_id)

    def as_data(self) -> dict:
        return {"provider_id": self.provider_id, "provider_name": self.provider_name,
                "start": clinic.to_local(self.start).isoformat(), "end": clinic.to_local(self.end).isoformat(),
                "same_clinician": self.same_clinician, "extra_trips": self.extra_trips,
                "joins_a_visit": self.joins_a_visit}


@dataclass
class MoveOptions:
    appointment: Appointment
    # Inside the late-cancellation window nothing is offered: the patient is asked to call.
    late: bool
    alternatives: list[Alternative] = field(default_factory=list)
    window: tuple[datetime, datetime] | None = None


class SlotTaken(Conflict):
    """The chosen time went to someone else (or no longer fits); `alternatives` are the fresh ones."""

    def __init__(self, message: str, alternatives: list[Alternative], **kwargs):
        super().__init__(message, extra={"alternatives": [a.as_data() for a in alternatives]}, **kwargs)
        self.alternatives = alternatives


def own_appointment(appointment_id: int, patient_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.patient_id != patient_id:
        raise NotFound(gettext("No appointment %(id)s.", id=appointment_id))
    return appointment


def plan_week_window(appointment: Appointment) -> tuple[datetime, datetime]:
    """The plan week the session answers (week 0 holds the plan's start), else the clinic week it is in."""
    plan = db.session.get(CarePlan, appointment.plan_id) if appointment.plan_id is not None else None
    if plan is not None and appointment.plan_week is not None:
        monday = plan.start_date - timedelta(days=plan.start_date.weekday())
        return week_bounds(monday + timedelta(weeks=appointment.plan_week))
    return week_bounds(clinic.to_local(appointment.starts_at).date())


def _min_gap_days(appointment: Appointment) -> int:
    """The plan line's spacing between two sessions of this discipline (at least a day apart otherwise)."""
    plan = db.session.get(CarePlan, appointment.plan_id) if appointment.plan_id is not None else None
    for phase in (plan.phases if plan is not None else []):
        if phase.name == appointment.phase_name:
            for line in phase.lines:
                if line.discipline_code == appointment.discipline_code:
                    return max(line.min_gap_days, 1)
    return 1


def _trips(sessions: list[tuple[datetime, datetime]], longest_wait: timedelta) -> int:
    """Trips to the clinic: sessions of a day more than the longest wait apart are separate trips."""
    trips, last_end = 0, None
    for start, end in sorted(sessions):
        if last_end is None or start - last_end > longest_wait or clinic.to_local(start).date() != \
                clinic.to_local(last_end).date():
            trips += 1
        last_end = end if last_end is None else max(last_end, end)
    return trips


def alternatives_for(appointment_id: int, *, patient_id: int, now: datetime | None = None,
                     shown: int = ALTERNATIVES_SHOWN) -> MoveOptions:
    """The best few times this session could move to, keeping the plan's rules: the same plan week, the
    line's spacing, the patient's weekly windows and other sessions, the clinicians' hours, time off,
    appointments and holds (the free-slot service); ranked as the optimizer ranks schedules."""
    now = now or utcnow()
    appointment = own_appointment(appointment_id, patient_id)
    if appointment.status not in ACTIVE_STATUSES or appointment.starts_at <= now:
        raise Conflict(gettext("This appointment can no longer be moved."),
                       fields={"status": f"already {appointment.status}" if appointment.status not in
                               ACTIVE_STATUSES else "it has started"})
    if inside_late_window(appointment, now):
        return MoveOptions(appointment, late=True)
    start, end = plan_week_window(appointment)
    options = candidates(appointment, max(start, now), end)
    options.sort(key=lambda a: a.rank)
    return MoveOptions(appointment, late=False, alternatives=_varied(options, shown), window=(start, end))


# A few choices mean little if they are the same morning a quarter of an hour apart.
MOST_SHOWN_PER_DAY = 2


def _varied(ranked: list[Alternative], shown: int) -> list[Alternative]:
    """The best `shown`, at most MOST_SHOWN_PER_DAY on one day (the rest come after, still ranked)."""
    per_day: dict[date, int] = {}
    first, later = [], []
    for option in ranked:
        day = clinic.to_local(option.start).date()
        per_day[day] = per_day.get(day, 0) + 1
        (first if per_day[day] <= MOST_SHOWN_PER_DAY else later).append(option)
    return (first + later)[:shown]


def candidates(appointment: Appointment, start: datetime, end: datetime) -> list[Alternative]:
    """Every time in [start, end) the session could move to under the rules (unranked); the earlier-slot
    offers ask it too, whether a freed time fits a waiting session."""
    if end <= start:
        return []
    settings = clinic.settings()
    transition = timedelta(minutes=settings.transition_minutes)
    longest_wait = timedelta(minutes=settings.max_wait_minutes)
    patient = db.session.get(Patient, appointment.patient_id)
    minutes = appointment.minutes
    others = [a for a in active_between(appointment.patient_id, start - timedelta(days=7), end + timedelta(days=7))
              if a.id != appointment.id]
    in_week = [(a.starts_at, a.ends_at) for a in others if start <= a.starts_at < end]
    trips_before = _trips(in_week + [(appointment.starts_at, appointment.ends_at)], longest_wait) \
        if start <= appointment.starts_at < end else _trips(in_week, longest_wait)
    gap_days = _min_gap_days(appointment)
    same_line = [clinic.to_local(a.starts_at).date() for a in others
                 if a.discipline_code == appointment.discipline_code]
    providers = [p for p in db.session.scalars(select(Provider).where(Provider.active.is_(True)).order_by(Provider.id))
                 if appointment.discipline_code in p.discipline_codes]
    # The patient's sites, as a booking keeps them (careplan.scheduling.rooms): a location they accept, one
    # location a day for in-person sessions. A video session goes anywhere.
    accepted = set(patient.location_ids)
    sites = {}
    for other in others:
        if not other.virtual and other.location_id is not None:
            sites.setdefault(clinic.to_local(other.starts_at).date(), other.location_id)
    found = []
    for provider in providers:
        for slot in free_slots(provider.id, start, end, minutes):
            begins, ends = slot["start"], slot["end"]
            if provider.id == appointment.provider_id and begins == appointment.starts_at:
                continue
            if patient.availability and not within_windows(patient.availability, begins, ends):
                continue
            # The patient's other sessions: never overlapping, and a transition between two of a visit.
            if any(s - transition < ends and begins < e + transition for s, e in
                   ((a.starts_at, a.ends_at) for a in others)):
                continue
            day = clinic.to_local(begins).date()
            if any(abs((day - other).days) < gap_days for other in same_line):
                continue
            if not appointment.virtual and (where := location_at(provider, begins, ends)) is not None and (
                    (accepted and where not in accepted) or sites.get(day, where) != where):
                continue
            that_day = [(a.starts_at, a.ends_at) for a in others if clinic.to_local(a.starts_at).date() == day]
            gaps = [max(begins - e, s - ends) - transition for s, e in that_day]
            near = [g for g in gaps if g <= longest_wait]
            found.append(Alternative(
                provider_id=provider.id, provider_name=provider.name, start=begins, end=ends,
                same_clinician=provider.id == appointment.provider_id,
                extra_trips=_trips(in_week + [(begins, ends)], longest_wait) - trips_before,
                joins_a_visit=bool(near),
                idle_minutes=int(min(near).total_seconds() // 60) if near else 0,
                minutes_away=int(abs((begins - appointment.starts_at).total_seconds()) // 60)))
    return found


# How the audit trail names a patient's own move; the desk's record lists them (moves_by_patient).
MOVED_BY_THE_PATIENT = "moved by the patient"


def _where(provider_id: int, start: datetime) -> str:
    """For the desk reading the audit trail: 2027-03-04 10:00 with Ana Moreau (provider 3)."""
    provider = db.session.get(Provider, provider_id)
    return f"{clinic.to_local(start):%Y-%m-%d %H:%M} with {provider.name} (provider {provider_id})"


def active_between(patient_id: int, start: datetime, end: datetime) -> list[Appointment]:
    """The patient's appointments that still take up their time in [start, end)."""
    return list(db.session.scalars(select(Appointment).where(
        Appointment.patient_id == patient_id, Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.starts_at < end, start < Appointment.ends_at).order_by(Appointment.starts_at)))


def move_to_alternative(caller: Caller, appointment_id: int, *, patient_id: int, provider_id: int,
                        start: datetime, sequence: int, now: datetime | None = None) -> Appointment:
    """Move the session to one of its alternatives, atomically. The time must still be one of them when the
    move is written (another patient may have taken it a moment ago): if not, SlotTaken carries the fresh
    ones and nothing moves. The database's overlap guards make a double booking impossible even when two
    moves race past the check. Inside the late-cancellation window nothing moves."""
    now = now or utcnow()
    appointment = own_appointment(appointment_id, patient_id)
    if appointment.sequence != sequence:
        raise Conflict(gettext("This appointment has changed since you opened this page. Please look again."),
                       fields={"sequence": f"now {appointment.sequence}"})
    options = alternatives_for(appointment_id, patient_id=patient_id, now=now, shown=10 ** 6)
    if options.late:
        raise Conflict(gettext("It is less than %(hours)s hours before the appointment, so it cannot be moved "
                               "online. Please call the clinic.", hours=clinic.settings().late_cancel_hours),
                       code="too_late", fields={"start": "inside the late-cancellation window"})
    chosen = next((a for a in options.alternatives if a.provider_id == provider_id and a.start == start), None)
    if chosen is None:
        raise SlotTaken(gettext("That time is no longer free. Here are the times open now."),
                        options.alternatives[:ALTERNATIVES_SHOWN], fields={"start": "no longer an alternative"})
    booking = Booking(patient_id=appointment.patient_id, provider_id=provider_id,
                      discipline=appointment.discipline_code, start=chosen.start, minutes=appointment.minutes)
    # Two patients moving into one clinician's time queue here, as bookings do, instead of meeting in the
    # database's overlap guard, where PostgreSQL gave one up as a deadlock (a 503 to a patient).
    lock_providers([provider_id])
    check_booking(booking, now)
    previous = (appointment.provider_id, appointment.starts_at)
    try:
        with overlap_guard([booking], [appointment.id]):
            conflict = find_conflicts([booking], [appointment.id], now=now)
            if conflict:
                raise conflict
            record("update", "appointment", appointment.id, appointment.patient_id,
                   detail=f"{MOVED_BY_THE_PATIENT} ({caller.origin}): {_where(*previous)} -> "
                          f"{_where(provider_id, chosen.start)}", caller=caller)
            move_to(appointment, provider_id, chosen.start, chosen.end, now)
            db.session.commit()
    except Conflict:
        db.session.rollback()
        fresh = alternatives_for(appointment_id, patient_id=patient_id, now=now)
        raise SlotTaken(gettext("That time is no longer free. Here are the times open now."),
                        fresh.alternatives, fields={"start": "taken a moment ago"}) from None
    return appointment


@dataclass(frozen=True)
class PatientMove:
    """A session the patient moved themselves, as the front desk and the clinicians read it."""

    at: datetime              # when the patient moved it
    appointment_id: int
    origin: str               # web (the portal or an e-mail link), api, ...
    earlier_offer: bool       # by taking an earlier time the clinic offered
    before: datetime | None   # where the session was (None: the trail's line could not be read)
    before_with: str | None   # with whom, when the trail says so
    after: datetime | None
    after_with: str | None


# The trail's lines of a patient's move, as move_to_alternative and offers.accept_offer write them.
_MOVE_LINE = re.compile(
    r"^moved by the patient \((?P<origin>[a-z]+)(?P<offer>, earlier-slot offer \d+)?\): "
    r"(?P<before>\d{4}-\d\d-\d\d \d\d:\d\d)(?: with (?P<before_with>.+?) \(provider \d+\))? -> "
    r"(?P<after>\d{4}-\d\d-\d\d \d\d:\d\d) with (?P<after_with>.+?)(?: \(provider \d+\))?$")


def _local(text: str) -> datetime:
    moment = datetime.strptime(text, "%Y-%m-%d %H:%M")
    return clinic.local_datetime(moment.date(), moment.time())


def _move(event) -> PatientMove:
    line = _MOVE_LINE.match(event.detail or "")
    origin = event.origin or (line["origin"] if line else "")
    if line is None:
        return PatientMove(event.at, int(event.resource_id or 0), origin, False, None, None, None, None)
    return PatientMove(event.at, int(event.resource_id or 0), origin, bool(line["offer"]), _local(line["before"]),
                       line["before_with"],
                       _local(line["after"]), line["after_with"])


def moves_by_patient(patient_id: int, *, limit: int = 20) -> list[PatientMove]:
    """The sessions this patient moved themselves (portal, API, e-mail link), newest first, from the audit trail."""
    from careplan.audit.models import AuditEvent

    return [_move(event) for event in db.session.scalars(select(AuditEvent).where(
        AuditEvent.patient_id == patient_id, AuditEvent.resource == "appointment",
        AuditEvent.action == "update", AuditEvent.detail.startswith(MOVED_BY_THE_PATIENT))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))]
