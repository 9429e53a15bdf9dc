"""Private, revocable iCalendar feeds: a provider's or a patient's appointments for calendar apps.

A feed URL carries a random token and needs no login (calendar apps cannot
send one), so the token is the secret: it is stored hashed, shown once, and
replaced or revoked by its owner or the front desk.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext
from icalendar import Calendar
from sqlalchemy import select

from careplan.audit.service import note_denied, record
from careplan.auth.access import STAFF, reach_patient
from careplan.caller import Caller
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.errors import NotFound
from careplan.extensions import db
from careplan.fhir.models import CalendarFeed
from careplan.i18n import speaking
from careplan.patients.service import get_patient
from careplan.providers.service import get_provider
from careplan.scheduling.calendar import appointment_event, event_location, patient_summary
from careplan.scheduling.models import Appointment

# A feed shows the recent past (so this week's sessions stay visible) and the months of care ahead.
FEED_PAST = timedelta(days=7)
FEED_AHEAD = timedelta(days=180)
OWNERS = ("provider", "patient")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _owner_column(owner: str):
    return CalendarFeed.provider_id if owner == "provider" else CalendarFeed.patient_id


def _patient_id(owner: str, owner_id: int) -> int | None:
    return owner_id if owner == "patient" else None


def check_owner(owner: str, owner_id: int, *, caller: Caller) -> None:
    """The owner themself, staff, or an operator's command or a worker (a caller with no user, trusted as
    staff are); anyone else's feed does not exist for the caller (404, audited)."""
    user = caller.user
    if owner == "patient":
        if user is not None:
            reach_patient(owner_id, caller=caller)
        get_patient(owner_id)
    else:
        get_provider(owner_id)
    if user is None or user.role in STAFF:
        return
    if getattr(user, f"{owner}_id") != owner_id or user.role != owner:
        note_denied("calendar_feed", owner_id, patient_id=_patient_id(owner, owner_id),
                    detail=f"not the {owner}'s own feed", caller=caller)
        raise NotFound(f"No calendar feed of {owner} {owner_id}.")


def get_feed(owner: str, owner_id: int, *, caller: Caller) -> CalendarFeed:
    check_owner(owner, owner_id, caller=caller)
    feed = db.session.scalar(select(CalendarFeed).where(_owner_column(owner) == owner_id))
    if feed is None:
        raise NotFound(f"This {owner} has no calendar feed.")
    return feed


def open_feed(owner: str, owner_id: int, *, caller: Caller) -> tuple[CalendarFeed, str]:
    """A new feed token; any earlier URL of this owner stops working at once."""
    check_owner(owner, owner_id, caller=caller)
    db.session.execute(CalendarFeed.__table__.delete().where(_owner_column(owner) == owner_id))
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(token_hash=_digest(token), **{f"{owner}_id": owner_id})
    db.session.add(feed)
    db.session.flush()
    record("create", "calendar_feed", feed.id, _patient_id(owner, owner_id), detail=f"{owner} {owner_id}'s feed",
           caller=caller)
    db.session.commit()
    return feed, token


def revoke_feed(owner: str, owner_id: int, *, caller: Caller) -> None:
    feed = get_feed(owner, owner_id, caller=caller)
    record("delete", "calendar_feed", feed.id, _patient_id(owner, owner_id), detail=f"{owner} {owner_id}'s feed",
           caller=caller)
    db.session.delete(feed)
    db.session.commit()


def feed_for_token(token: str, *, caller: Caller) -> CalendarFeed:
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _digest(token)))
    if feed is None:
        note_denied("calendar_feed", "", detail="unknown feed URL", caller=caller)
        raise NotFound("No such calendar feed; it may have been revoked or replaced.")
    return feed


def feed_appointments(feed: CalendarFeed, now: datetime) -> list[Appointment]:
    owner = (Appointment.provider_id == feed.provider_id if feed.provider_id is not None
             else Appointment.patient_id == feed.patient_id)
    return list(db.session.scalars(select(Appointment).where(
        owner, Appointment.starts_at >= now - FEED_PAST, Appointment.starts_at < now + FEED_AHEAD)
        .order_by(Appointment.starts_at, Appointment.id)))


def _title(appointment: Appointment, names: dict[str, str]) -> str:
    title = names.get(appointment.discipline_code, appointment.discipline_code)
    return f"{title} assessment" if appointment.kind == "assessment" else title


def calendar(feed: CalendarFeed, now: datetime | None = None) -> bytes:
    """The feed's iCalendar text. Summaries name the discipline and the other person, never a condition."""
    now = now or utcnow()
    if feed.provider_id is not None:
        return icalendar_of(feed_appointments(feed, now), get_provider(feed.provider_id).name, for_provider=True,
                            now=now)
    patient = get_patient(feed.patient_id)
    # A patient's calendar speaks their language, as their e-mails do.
    with speaking(patient):
        return icalendar_of(feed_appointments(feed, now), patient.name, for_provider=False, now=now)


def icalendar_of(appointments: list[Appointment], owner_name: str, *, for_provider: bool, now: datetime) -> bytes:
    """Appointments as an iCalendar file: a feed's, or a patient's download from their page."""
    settings = clinic.settings()
    names = {d.code: d.name for d in clinic.disciplines(include_inactive=True)}
    location = ", ".join(part for part in (settings.name, settings.address) if part)
    cal = Calendar()
    cal.add("prodid", "-//careplan//calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{settings.name}: {owner_name}")
    cal.add("x-wr-timezone", clinic.timezone_name())
    for appointment in appointments:
        if for_provider:
            summary = f"{_title(appointment, names)}: {appointment.patient.name}"
        else:
            summary = patient_summary(appointment,
                                      gettext(names.get(appointment.discipline_code, appointment.discipline_code)))
        cal.add_component(appointment_event(appointment, summary, event_location(appointment, settings.name,
                                                                                  location)))
    # The zone's rules for the feed's window only (with a year's margin), not from 1970 on.
    cal.add_missing_timezones(first_date=(now - FEED_PAST - timedelta(days=366)).date(),
                              last_date=(now + FEED_AHEAD + timedelta(days=366)).date())
    return cal.to_ical()
