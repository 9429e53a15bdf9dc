"""Appointments: book, move, cancel, mark; free slots; double booking made impossible.

Every booking path goes through `insert_appointments`, which checks the
rules, looks for overlaps in the same transaction, and turns the database's
own refusal (the PostgreSQL exclusion constraints or the SQLite triggers
named in OVERLAP_GUARDS) into a 409 naming the appointments in the way.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from blinker import signal
from flask_babel import gettext
from sqlalchemy import and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from careplan.audit.service import note_denied, record, record_many
from careplan.caller import Caller
from careplan.auth.access import STAFF, care_team_patient_ids, on_care_team
from careplan.clinic import service as clinic
from careplan.clinic.service import within_windows  # noqa: F401 (callers know it from here)
from careplan.clinic.models import Discipline
from careplan.db import utcnow
from careplan.errors import Conflict, Invalid, NotFound
from careplan.extensions import db
from careplan.intake.service import check_no_red_flag
from careplan.patients.models import Patient
from careplan.plans.models import CarePlan
from careplan.proposals.holds import holds_in_force, holds_over
from careplan.proposals.models import HeldSlot
from careplan.providers.models import Provider, ProviderTimeOff
from careplan.providers.service import get_provider
from careplan.webhooks import service as webhooks
from careplan.reminders.service import (cancel_reminders, queue_booking_confirmation, queue_reschedule_notice,
                                        queue_video_link_notice, withdraw_video_link_notice,
                                        retime_reminders, schedule_reminders)
from careplan.scheduling.attention import clear_flag, lock_providers
from careplan.scheduling import rooms
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment, overlapping
from careplan.schemas import session_minutes_problem

# Names of the database guards against overlaps (constraints on PostgreSQL, trigger messages on SQLite).
OVERLAP_GUARDS = ("appointments_provider_no_overlap", "appointments_patient_no_overlap", rooms.ROOM_GUARD)
MAX_FREE_SLOT_DAYS = 31
# The clinic books at most this far ahead.
MAX_DAYS_AHEAD = 2 * 366
# Which status a PATCH may set, from which statuses.
TRANSITIONS = {
    "confirmed": ("booked",),
    "cancelled": ACTIVE_STATUSES,
    "completed": ACTIVE_STATUSES,
    "no_show": ACTIVE_STATUSES,
}


@dataclass
class Booking:
    """One appointment to book; `field` prefixes the names of its fields in errors ("" or "appointments[3].")."""

    patient_id: int
    provider_id: int
    discipline: str
    start: datetime
    minutes: int
    kind: str = "treatment"
    plan_id: int | None = None
    phase: str | None = None
    week: int | None = None
    field: str = ""
    # Where and how (issue 20): filled in by careplan.scheduling.rooms.place when not given.
    location_id: int | None = None
    room_id: int | None = None
    room_unit: int | None = None
    virtual: bool = False
    video_link: str = ""

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


# --- the rules a time must meet -------------------------------------------------------------------

def _on_grid(start: datetime, field: str, slot: int | None = None) -> dict[str, str]:
    """Starts keep to the clinic's slot grid; lengths are the schemas' (SessionMinutes), any whole minutes."""
    slot = slot or clinic.settings().slot_minutes
    local = clinic.to_local(start)
    if local.second or local.microsecond or (local.hour * 60 + local.minute) % slot:
        return {f"{field}start": f"must be on the clinic's {slot}-minute grid (e.g. 09:00, 09:{slot:02d})"}
    return {}


class _Known:
    """What checking bookings reads, read once for all of them: a proposal of thirty sessions costs the same
    few statements as one booking. It holds the rows it read, because the session's identity map keeps them
    only weakly (a row nobody holds is read again at its next `get`)."""

    def __init__(self, bookings: list[Booking]):
        provider_ids = {b.provider_id for b in bookings}
        patient_ids = {b.patient_id for b in bookings}
        plan_ids = {b.plan_id for b in bookings if b.plan_id is not None}
        self.slot = clinic.settings().slot_minutes
        self.providers = {p.id: p for p in db.session.scalars(
            select(Provider).where(Provider.id.in_(provider_ids))
            .options(selectinload(Provider.availability), selectinload(Provider.disciplines)))}
        self.patients = {p.id: p for p in db.session.scalars(select(Patient).where(Patient.id.in_(patient_ids)))}
        self.disciplines = {d.code: d for d in db.session.scalars(select(Discipline))}
        self.plans = {p.id: p for p in db.session.scalars(
            select(CarePlan).where(CarePlan.id.in_(plan_ids)).options(selectinload(CarePlan.care_team)))} \
            if plan_ids else {}
        start, end = min(b.start for b in bookings), max(b.end for b in bookings)
        self.time_off = list(db.session.scalars(select(ProviderTimeOff).where(
            ProviderTimeOff.provider_id.in_(provider_ids), ProviderTimeOff.starts_at < end,
            start < ProviderTimeOff.ends_at)))
        # A plan's bookings are all one patient's: their red-flag screen is read once.
        self.screened: set[int] = set()

    def away(self, provider_id: int, start: datetime, end: datetime) -> bool:
        return any(t.provider_id == provider_id and t.starts_at < end and start < t.ends_at for t in self.time_off)


def check_bookings(bookings: list[Booking], now: datetime) -> list[Provider]:
    """`check_booking` for each of them in order, reading what the rules need once for all: a fixed number of
    statements whatever their number. Raises at the first booking that breaks a rule."""
    if not bookings:
        return []
    known = _Known(bookings)
    return [_check(booking, now, known) for booking in bookings]


def check_booking(booking: Booking, now: datetime) -> Provider:
    """Everything but overlaps; raises Invalid naming the fields."""
    return check_bookings([booking], now)[0]


def _check(booking: Booking, now: datetime, known: _Known) -> Provider:
    f = booking.field
    if booking.plan_id is not None and booking.patient_id not in known.screened:
        # A session of a plan is care under that plan, which a red flag since stops; a single visit
        # outside any plan stays the front desk's call.
        check_no_red_flag(booking.patient_id)
        known.screened.add(booking.patient_id)
    if booking.start > now + timedelta(days=MAX_DAYS_AHEAD):
        raise Invalid("This appointment cannot be booked as asked.",
                      fields={f"{f}start": f"more than {MAX_DAYS_AHEAD} days ahead"})
    problems: dict[str, str] = {}
    provider = known.providers.get(booking.provider_id)
    if provider is None or not provider.active:
        problems[f"{f}provider_id"] = f"no active provider {booking.provider_id}"
    if known.patients.get(booking.patient_id) is None:
        problems[f"{f}patient_id"] = f"no patient {booking.patient_id}"
    discipline = known.disciplines.get(booking.discipline)
    if discipline is None or not discipline.active:
        problems[f"{f}discipline"] = f"unknown discipline '{booking.discipline}'"
    elif provider is not None and booking.discipline not in provider.discipline_codes:
        problems[f"{f}discipline"] = f"provider {provider.id} does not give {booking.discipline}"
    if booking.plan_id is not None:
        plan = known.plans.get(booking.plan_id)
        if plan is None or plan.patient_id != booking.patient_id:
            problems[f"{f}plan_id"] = f"no care plan {booking.plan_id} for patient {booking.patient_id}"
        else:
            required = next((m.provider_id for m in plan.care_team
                             if m.required and m.discipline_code == booking.discipline), None)
            if required is not None and required != booking.provider_id:
                problems[f"{f}provider_id"] = (f"the care plan requires provider {required} for "
                                               f"{booking.discipline}")
    problems.update(_on_grid(booking.start, f, known.slot))
    if (wrong := session_minutes_problem(booking.minutes)) is not None:
        problems[f"{f}minutes"] = wrong
    if booking.start < now:
        problems.setdefault(f"{f}start", "is in the past")
    if provider is not None and f"{f}start" not in problems:
        if not within_windows(provider.availability, booking.start, booking.end):
            problems[f"{f}start"] = f"outside {provider.name}'s working hours"
        elif known.away(provider.id, booking.start, booking.end):
            problems[f"{f}start"] = f"{provider.name} is away then"
    if problems:
        raise Invalid("This appointment cannot be booked as asked.", fields=problems)
    return provider


# --- overlaps ---------------------------------------------------------------------------------------

def _each_over(model, bookings: list[Booking]):
    """Rows of `model` (Appointment, HeldSlot) of any booking's provider or patient overlapping its time: one
    condition for all of them, each term read by the (provider|patient, starts_at) indexes."""
    return or_(*(and_(overlapping(model, b.start, b.end),
                      or_(model.provider_id == b.provider_id, model.patient_id == b.patient_id)) for b in bookings))


def _in_the_way(other, booking: Booking) -> bool:
    return ((other.provider_id == booking.provider_id or other.patient_id == booking.patient_id)
            and other.starts_at < booking.end and booking.start < other.ends_at)


def find_conflicts(bookings: list[Booking], exclude_ids: list[int | None], *, now: datetime | None = None,
                   proposal_ids=(), ignore_ids=frozenset()) -> Conflict | None:
    """What stands in the way: other appointments, other proposals' holds in force, each other.
    `proposal_ids` are proposals whose holds are these very bookings, `ignore_ids` appointments that move
    or go in the same transaction (neither is in the way). Two statements whatever the bookings' number."""
    now = now or utcnow()
    if not bookings:
        return None
    fields: dict[str, str] = {}
    ids: set[int] = set()
    proposals: set[int] = set()
    booked = list(db.session.scalars(select(Appointment).where(
        Appointment.status != "cancelled", _each_over(Appointment, bookings)).order_by(Appointment.id)))
    held = list(db.session.scalars(holds_in_force(now, exclude_proposal_ids=proposal_ids).where(
        _each_over(HeldSlot, bookings)).order_by(HeldSlot.id)))
    for i, (booking, exclude) in enumerate(zip(bookings, exclude_ids)):
        for other in booked:
            if other.id == exclude or other.id in ignore_ids or not _in_the_way(other, booking):
                continue
            who = "provider" if other.provider_id == booking.provider_id else "patient"
            ids.add(other.id)
            fields.setdefault(f"{booking.field}start",
                              f"the {who} is busy then with appointment {other.id} "
                              f"({clinic.to_local(other.starts_at):%Y-%m-%d %H:%M}-"
                              f"{clinic.to_local(other.ends_at):%H:%M})")
        for hold in held:
            if not _in_the_way(hold, booking):
                continue
            who = "provider" if hold.provider_id == booking.provider_id else "patient"
            proposals.add(hold.proposal_id)
            fields.setdefault(f"{booking.field}start",
                              f"the {who}'s time is held for proposal {hold.proposal_id} until "
                              f"{clinic.to_local(hold.proposal.expires_at):%Y-%m-%d %H:%M}")
        for earlier in bookings[:i]:
            same = ("provider" if earlier.provider_id == booking.provider_id else
                    "patient" if earlier.patient_id == booking.patient_id else None)
            if same and earlier.start < booking.end and booking.start < earlier.end:
                fields.setdefault(f"{booking.field}start", f"overlaps {earlier.field.rstrip('.')} (same {same})")
    if not fields:
        return None
    return Conflict("That time is no longer free.", fields=fields,
                    extra={"conflicting_appointment_ids": sorted(ids),
                           "conflicting_proposal_ids": sorted(proposals)})


def _is_overlap_refusal(exc: IntegrityError) -> bool:
    return any(name in str(exc.orig) for name in OVERLAP_GUARDS)


@contextmanager
def overlap_guard(bookings: list[Booking], exclude_ids: list[int | None], *, proposal_ids=()):
    """Around a booking's writes and its commit: the database's overlap refusal (a booking that raced
    ours, seen at a flush on PostgreSQL or at the commit) becomes a 409, after a rollback."""
    try:
        yield
    except IntegrityError as exc:
        db.session.rollback()
        if not _is_overlap_refusal(exc):
            raise
        raise find_conflicts(bookings, exclude_ids, proposal_ids=proposal_ids) or Conflict(
            "That time is no longer free.", fields={f"{bookings[0].field}start": "taken by a concurrent booking"},
            extra={"conflicting_appointment_ids": [], "conflicting_proposal_ids": []}) from None


def _commit_guarded(bookings: list[Booking], exclude_ids: list[int | None]) -> None:
    """Commit, turning the database's overlap refusal (a booking that raced ours) into a 409."""
    with overlap_guard(bookings, exclude_ids):
        db.session.commit()


def add_appointments(bookings: list[Booking], *, caller: Caller, now: datetime | None = None,
                     proposal_id: int | None = None) -> list[Appointment]:
    """Check and add them to the session (flushed, not committed): for a caller that writes more in the same
    transaction and commits inside `overlap_guard`. `proposal_id`: the proposal whose holds these are."""
    now = now or utcnow()
    # Checked against the hours as they are until the commit: a change of hours waits for this booking.
    lock_providers(b.provider_id for b in bookings)
    check_bookings(bookings, now)
    proposal_ids = (proposal_id,) if proposal_id is not None else ()
    conflict = find_conflicts(bookings, [None] * len(bookings), now=now, proposal_ids=proposal_ids)
    if conflict:
        raise conflict
    return write_appointments(bookings, caller=caller, now=now)


def write_appointments(bookings: list[Booking], *, caller: Caller, now: datetime | None = None) -> list[Appointment]:
    """Write already checked bookings (in the bookings' order), audited, not committed: one INSERT for all of
    them, and one for their audit rows. Each in-person one takes its location and, when it needs a room, a place
    of one here, keeping to the patient's sites (careplan.scheduling.rooms). The database's guards (exclusion constraints, triggers) see every row."""
    if not bookings:
        return []
    rooms.place(bookings, now=now)
    values = [{"patient_id": b.patient_id, "provider_id": b.provider_id, "discipline_code": b.discipline,
               "kind": b.kind, "plan_id": b.plan_id, "phase_name": b.phase, "plan_week": b.week,
               "starts_at": b.start, "ends_at": b.end, "location_id": b.location_id, "room_id": b.room_id,
               "room_unit": b.room_unit, "virtual": b.virtual, "video_link": b.video_link} for b in bookings]
    # RETURNING's order is the database's (SQLite promises none): each row finds its booking by what
    # the checks made unique in the batch, the provider and the start.
    written = {(row.provider_id, row.starts_at): row
               for row in db.session.scalars(
                   insert(Appointment).returning(Appointment).execution_options(render_nulls=True), values)}
    rows = [written[(b.provider_id, b.start)] for b in bookings]
    record_many("create", "appointment", [
        (row.id, row.patient_id, f"with provider {row.provider_id} at {row.starts_at.isoformat()}") for row in rows],
        caller=caller)
    return rows


def insert_appointments(bookings: list[Booking], *, caller: Caller, now: datetime | None = None) -> list[Appointment]:
    """Book all of them in one transaction, or none: Invalid (422) on a broken rule, Conflict (409) on overlaps.

    The Conflict's `extra["conflicting_appointment_ids"]` lists the appointments in the way (and
    `conflicting_proposal_ids` the proposals holding the time) and its `fields` say which booking (by its
    `field` prefix) met which.
    """
    with overlap_guard(bookings, [None] * len(bookings)):
        rows = add_appointments(bookings, caller=caller, now=now)
        db.session.commit()
    return rows


def book_appointment(data: dict, *, caller: Caller, now: datetime | None = None) -> Appointment:
    """One appointment from the front desk (the API's body, parsed), with its reminders and confirmation."""
    booking = Booking(**data)
    with overlap_guard([booking], [None]):
        [row] = add_appointments([booking], caller=caller, now=now)
        schedule_reminders(row, now=now)
        queue_booking_confirmation(db.session.get(Patient, row.patient_id), [row], now=now)
        webhooks.emit("appointment.booked", [webhooks.appointment_data(row)], now=now)
        db.session.commit()
    return row


# --- reading ---------------------------------------------------------------------------------------

def visible_to(user, appointment: Appointment) -> bool:
    if user.role in STAFF:
        return True
    if user.role == "provider":
        # Their own schedule, and the schedule of the patients whose care team they are on.
        return (appointment.provider_id == user.provider_id
                or on_care_team(user.provider_id, appointment.patient_id))
    if user.role == "patient":
        return appointment.patient_id == user.patient_id
    return False


def get_appointment(appointment_id: int, user=None) -> Appointment:
    """404 also for an appointment the user may not see, so ids cannot be probed."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or (user is not None and not visible_to(user, appointment)):
        raise NotFound(f"No appointment {appointment_id}.")
    return appointment


def list_appointments(user, *, patient_id: int | None = None, provider_id: int | None = None,
                      starts_from: datetime | None = None, until: datetime | None = None,
                      status: str | None = None, flagged: bool | None = None):
    """A query of the appointments the user may see, filtered: a patient their own, a provider the appointments
    of the patients whose care team they are on (their own schedule among them)."""
    query = select(Appointment).order_by(Appointment.starts_at, Appointment.id)
    if user.role == "patient":
        query = query.where(Appointment.patient_id == user.patient_id)
    elif user.role == "provider":
        query = query.where(Appointment.patient_id.in_(care_team_patient_ids(user.provider_id)))
    if patient_id is not None:
        query = query.where(Appointment.patient_id == patient_id)
    if provider_id is not None:
        query = query.where(Appointment.provider_id == provider_id)
    if starts_from is not None or until is not None:
        query = query.where(overlapping(Appointment, starts_from, until))
    if status is not None:
        query = query.where(Appointment.status == status)
    if flagged is not None:
        # The flag is set and cleared by careplan.scheduling.attention alone.
        query = query.where(Appointment.flag_reason.is_not(None) if flagged else Appointment.flag_reason.is_(None))
    return query


# --- changing --------------------------------------------------------------------------------------

# What each role may change through PATCH; staff may change anything.
_ROLE_MAY = {
    # A clinician marks their own sessions and gives their own video sessions' links.
    "provider": ({"status", "video_link"}, {"completed", "no_show"}),
    "patient": ({"status", "reason"}, {"confirmed", "cancelled"}),
}


def _allowed(caller: Caller, appointment: Appointment, changes: dict) -> None:
    user = caller.user
    if user is None or user.role in STAFF:
        return
    keys, statuses = _ROLE_MAY.get(user.role, (set(), set()))
    refused = {k: "your role may not change this" for k in changes if k not in keys}
    if "status" in changes and changes["status"] not in statuses:
        refused["status"] = f"your role may only set {' or '.join(sorted(statuses))}"
    if user.role == "provider" and appointment.provider_id != user.provider_id:
        # A colleague's appointment of a shared patient is theirs to read, not to mark.
        refused = {"_schema": "only the appointment's own provider marks it"}
    if refused:
        from careplan.errors import Forbidden

        note_denied("appointment", appointment.id, patient_id=appointment.patient_id,
                    detail="; ".join(f"{k}: {v}" for k, v in refused.items()), caller=caller)
        raise Forbidden("Your role may not make this change.", fields=refused)


def update_appointment(appointment_id: int, changes: dict, *, caller: Caller,
                       now: datetime | None = None) -> Appointment:
    """Change status (confirm, cancel with a reason, completed, no-show), move it (start/minutes/provider) or
    give a video session its link (video_link)."""
    now = now or utcnow()
    appointment = get_appointment(appointment_id, caller.user)
    _allowed(caller, appointment, changes)
    moving = {k for k in ("start", "minutes", "provider_id") if k in changes}
    if not changes:
        raise Invalid("Nothing to change.",
                      fields={"_schema": "give status, start, minutes, provider_id or video_link"})
    if "video_link" in changes and len(changes) > 1:
        raise Invalid("Give a video link on its own, not with another change.",
                      fields={"video_link": "on its own"})
    if moving and "status" in changes:
        raise Invalid("Change the status or move the appointment, not both at once.",
                      fields={"status": "not with start, minutes or provider_id"})
    if "reason" in changes and changes.get("status") != "cancelled":
        raise Invalid("A reason goes with a cancellation.", fields={"reason": "only with status cancelled"})
    if appointment.status not in ACTIVE_STATUSES:
        raise Conflict(f"Appointment {appointment.id} is {appointment.status}; it can no longer change.",
                       fields={"status": f"already {appointment.status}"})
    if "video_link" in changes:
        _set_video_link(appointment, changes["video_link"], now, caller)
    elif moving:
        _move(appointment, changes, now, caller)
    else:
        _set_status(appointment, changes["status"], changes.get("reason", ""), now, caller)
    return appointment


def _set_video_link(appointment: Appointment, link: str, now: datetime, caller: Caller) -> None:
    """A video session booked without its link (a plan's proposal never has one) gets it, or another: the
    patient is told how to join (their booking's e-mails said the clinic would send it), and calendars that
    hold the session update its place. An empty link takes it away; nobody is told of that."""
    if not appointment.virtual:
        raise Invalid("Only a video session has a video link.",
                      fields={"video_link": "this session is held in person"})
    if appointment.ends_at <= now:
        raise Conflict("This session is over; its link no longer matters.", fields={"video_link": "session over"})
    if link == appointment.video_link:
        return
    replaces = bool(appointment.video_link)
    appointment.video_link = link
    # Calendars that hold the session (the feed, the e-mails' calendar parts) replace it by its sequence.
    appointment.sequence += 1
    record("update", "appointment", appointment.id, appointment.patient_id,
           detail="video link given" if link else "video link taken away", caller=caller)
    if link:
        queue_video_link_notice(appointment, replaces=replaces, now=now)
    else:
        withdraw_video_link_notice(appointment)
    db.session.commit()


def _set_status(appointment: Appointment, status: str, reason: str, now: datetime, caller: Caller) -> None:
    if appointment.status not in TRANSITIONS[status]:
        raise Conflict(f"Appointment {appointment.id} is {appointment.status}; it cannot become {status}.",
                       fields={"status": f"not from {appointment.status}"})
    if status == "confirmed" and appointment.flag_reason is not None:
        # A time the clinician can no longer keep (time off, changed hours): confirming it would promise a session
        # that will not happen. The flag's wording (whose time off) stays with the staff.
        raise Conflict(needs_new_time_message(), fields={"status": "the session needs a new time"})
    if status in ("completed", "no_show") and now < appointment.starts_at:
        raise Invalid(f"Appointment {appointment.id} has not started yet.",
                      fields={"status": f"{status} only once the appointment has started"})
    if status == "cancelled":
        if now >= appointment.ends_at:
            raise Conflict(f"Appointment {appointment.id} is over; mark it completed or no_show instead.",
                           fields={"status": "the appointment is over"})
        cancel(appointment, reason, now, caller=caller)
    else:
        appointment.status = status
        if status not in ACTIVE_STATUSES:
            # Over (completed, no-show): nothing left for the front desk to move.
            clear_flag(appointment)
        if status == "no_show":
            webhooks.emit("appointment.no_show", [webhooks.appointment_data(appointment)], now=now)
    record("update", "appointment", appointment.id, appointment.patient_id,
           detail=f"{status}{': ' + reason if reason else ''}", caller=caller)
    db.session.commit()


def needs_new_time_message() -> str:
    return gettext("The clinic is finding a new time for this session, so it cannot be confirmed. "
                   "They will offer you one.")


# Sent inside the cancelling transaction with the appointment, `now` and `caller`; receivers add to it.
appointment_cancelled = signal("careplan.appointment-cancelled")


def inside_late_window(appointment: Appointment, now: datetime) -> bool:
    """Less than the clinic's late-cancellation hours before it starts: a patient no longer moves it online."""
    return appointment.starts_at - now < timedelta(hours=clinic.settings().late_cancel_hours)


def late_cancellation(appointment: Appointment, now: datetime) -> bool:
    """Whether cancelling it now is a late cancellation: inside the window, and not a time its clinician cannot
    keep (off sick), which is not the patient's doing. The record, the cancel page and the e-mail link agree."""
    return inside_late_window(appointment, now) and not appointment.needs_new_time


def cancel(appointment: Appointment, reason: str, now: datetime, *, caller: Caller) -> None:
    """Cancel it (`late_cancellation` says whether it is late), withdraw its reminders and tell the patient; no
    commit."""
    appointment.cancel_reason = reason[:400]
    appointment.cancelled_at = now
    appointment.late_cancellation = late_cancellation(appointment, now)
    appointment.sequence += 1
    appointment.status = "cancelled"
    clear_flag(appointment)
    cancel_reminders(appointment, notify=True, now=now)
    webhooks.emit("appointment.cancelled", [webhooks.appointment_data(
        appointment, late_cancellation=appointment.late_cancellation)], now=now)
    # Whoever wants the freed time hears of it (careplan.portal.offers e-mails the patients waiting for an
    # earlier one); a signal, so that booking does not import the patients' side that imports booking.
    appointment_cancelled.send(appointment, now=now, caller=caller)


def _move(appointment: Appointment, changes: dict, now: datetime, caller: Caller) -> None:
    booking = Booking(patient_id=appointment.patient_id,
                      provider_id=changes.get("provider_id", appointment.provider_id),
                      discipline=appointment.discipline_code,
                      start=changes.get("start", appointment.starts_at),
                      minutes=changes.get("minutes", appointment.minutes))
    lock_providers([booking.provider_id])
    check_booking(booking, now)
    conflict = find_conflicts([booking], [appointment.id], now=now)
    if conflict:
        raise conflict
    record("update", "appointment", appointment.id, appointment.patient_id,
           detail=f"moved to provider {booking.provider_id} at {booking.start.isoformat()}", caller=caller)
    with overlap_guard([booking], [appointment.id]):
        move_to(appointment, booking.provider_id, booking.start, booking.end, now)
        db.session.commit()


def move_to(appointment: Appointment, provider_id: int, start: datetime, end: datetime, now: datetime) -> None:
    """Put it at a new time (and maybe with someone else), reminders retimed and the patient told; no commit."""
    previous_start, previous_provider = appointment.starts_at, appointment.provider_id
    rooms.replace(appointment, provider_id, start, end, now)
    appointment.provider_id = provider_id
    appointment.starts_at, appointment.ends_at = start, end
    # A moved appointment is a new time the patient has not confirmed yet.
    appointment.status = "booked"
    appointment.sequence += 1
    # The new place was checked against the hours (or chosen by a re-plan inside them).
    clear_flag(appointment)
    retime_reminders(appointment, now=now)
    queue_reschedule_notice(appointment, previous_starts_at=previous_start, previous_provider_id=previous_provider,
                            now=now)
    webhooks.emit("appointment.moved", [webhooks.appointment_data(
        appointment, previous_start=clinic.to_local(previous_start).isoformat(), previous_provider_id=previous_provider)], now=now)


# --- free slots ------------------------------------------------------------------------------------

def free_slots(provider_id: int, start: datetime, end: datetime, minutes: int,
               *, now: datetime | None = None) -> list[dict]:
    """Starts on the clinic grid, not yet past, where the provider could take a `minutes` appointment in [start, end)."""
    provider = get_provider(provider_id)
    slot = clinic.settings().slot_minutes
    problems = {}
    if end <= start:
        problems["end"] = "must be after start"
    elif end - start > timedelta(days=MAX_FREE_SLOT_DAYS):
        problems["end"] = f"at most {MAX_FREE_SLOT_DAYS} days after start"
    if (wrong := session_minutes_problem(minutes)) is not None:
        problems["minutes"] = wrong
    if problems:
        raise Invalid("Cannot list free slots for this range.", fields=problems)
    if not provider.active:
        return []
    length = timedelta(minutes=minutes)
    taken = [(a.starts_at, a.ends_at) for a in db.session.scalars(select(Appointment).where(
        Appointment.provider_id == provider_id, Appointment.status != "cancelled",
        overlapping(Appointment, start, end)))]
    taken += [(t.starts_at, t.ends_at) for t in provider.time_off if t.starts_at < end and start < t.ends_at]
    now = now or utcnow()
    taken += [(h.starts_at, h.ends_at) for h in holds_over(provider_id, None, start, end, now=now)]
    slots = []
    earliest = max(start, now)
    day: date = clinic.to_local(start).date()
    while day <= clinic.to_local(end).date():
        for window in provider.availability:
            if window.day != day.weekday():
                continue
            closes = clinic.local_datetime(day, window.end)
            opens_at = window.start.hour * 60 + window.start.minute
            first = -(-opens_at // slot) * slot  # the first grid time at or after the window opens
            for wall in range(first, window.end.hour * 60 + window.end.minute - minutes + 1, slot):
                if not clinic.wall_time_exists(day, time(wall // 60, wall % 60)):
                    continue
                candidate = clinic.local_datetime(day, time(wall // 60, wall % 60))
                finish = candidate + length
                if candidate < earliest or finish > end or finish > closes:
                    continue
                if not any(s < finish and candidate < e for s, e in taken):
                    slots.append({"start": candidate, "end": finish})
        day += timedelta(days=1)
    return slots


# --- the day's life ---------------------------------------------------------------------------------

def check_in(appointment_id: int, *, caller: Caller, now: datetime | None = None) -> Appointment:
    """The patient is here. Only on the appointment's own day and while it is still to happen; a second
    check-in keeps the first time (the desk clicking twice changes nothing)."""
    now = now or utcnow()
    appointment = get_appointment(appointment_id, caller.user)
    if appointment.status not in ACTIVE_STATUSES:
        raise Conflict(f"Appointment {appointment.id} is {appointment.status}; the patient cannot check in.",
                       fields={"status": f"already {appointment.status}"})
    if clinic.to_local(now).date() != clinic.to_local(appointment.starts_at).date():
        raise Invalid(f"Appointment {appointment.id} is not today.",
                      fields={"arrived_at": "a patient checks in on the day of the appointment"})
    if appointment.arrived_at is None:
        appointment.arrived_at = now
        record("update", "appointment", appointment.id, appointment.patient_id, detail="arrived (checked in)", caller=caller)
        db.session.commit()
    return appointment


# --- what the pages list (reads; changes go through the functions above) --------------------------------

# Statuses of an appointment that still takes up its time.
HELD = ("booked", "confirmed", "completed", "no_show")


def appointments_between(start: datetime, end: datetime | None, *, provider_id: int | None = None,
                         patient_id: int | None = None, statuses=HELD) -> list[Appointment]:
    """Appointments overlapping [start, end) (end None: open), with their patient and provider loaded."""
    query = (select(Appointment)
             .where(overlapping(Appointment, start, end), Appointment.status.in_(statuses))
             .options(selectinload(Appointment.patient), selectinload(Appointment.provider))
             .order_by(Appointment.starts_at, Appointment.id))
    if provider_id is not None:
        query = query.where(Appointment.provider_id == provider_id)
    if patient_id is not None:
        query = query.where(Appointment.patient_id == patient_id)
    return list(db.session.scalars(query))


def day_appointments(day: date, **filters) -> list[Appointment]:
    return appointments_between(*clinic.local_day_bounds(day), **filters)


def upcoming_for_patient(patient_id: int) -> list[Appointment]:
    """From the session under way now onwards."""
    return appointments_between(utcnow(), None, patient_id=patient_id, statuses=ACTIVE_STATUSES)


def past_for_patient(patient_id: int, *, limit: int = 20) -> list[Appointment]:
    query = (select(Appointment).where(Appointment.patient_id == patient_id, Appointment.starts_at < utcnow())
             .options(selectinload(Appointment.provider))
             .order_by(Appointment.starts_at.desc()).limit(limit))
    return list(db.session.scalars(query))


def patients_of_provider(provider_id: int) -> list[tuple[Patient, Appointment | None]]:
    """A clinician's patients (care team or booked with them), each with their next session with this clinician."""
    from careplan.plans.models import CareTeamMember

    on_team = select(CarePlan.patient_id).join(CareTeamMember).where(
        CareTeamMember.provider_id == provider_id, CarePlan.status != "cancelled")
    booked = select(Appointment.patient_id).where(Appointment.provider_id == provider_id)
    patients = db.session.scalars(select(Patient).where(or_(Patient.id.in_(on_team), Patient.id.in_(booked)))
                                  .order_by(Patient.name))
    upcoming = appointments_between(utcnow(), None, provider_id=provider_id, statuses=ACTIVE_STATUSES)
    next_one: dict[int, Appointment] = {}
    for appointment in upcoming:
        next_one.setdefault(appointment.patient_id, appointment)
    return [(patient, next_one.get(patient.id)) for patient in patients]


def find_appointment(appointment_id: int) -> Appointment | None:
    """The appointment, or None (the caller decides what a missing one answers)."""
    return db.session.get(Appointment, appointment_id)
