"""An appointment as an iCalendar event, the one way every part of careplan writes it.

The UID is what lets a calendar recognise the same appointment across the
feeds and the reminder e-mails (an update replaces the event instead of
adding a second one), so it is defined here and nowhere else.
"""
from __future__ import annotations

from flask_babel import gettext
from icalendar import Event

from careplan.clinic.service import to_local
from careplan.scheduling.models import Appointment


def appointment_uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.id}@careplan"


def patient_summary(appointment: Appointment, discipline_name: str) -> str:
    """What a patient's calendar calls the appointment: the same in their feed, their download and their e-mails'
    calendar parts, which share its UID (the e-mails said "Psychotherapist appointment, <clinic>" and the feed
    "Psychotherapy with Elena Petrova", so the title changed with whichever updated the event last)."""
    if appointment.kind == "assessment":
        return gettext("%(discipline)s assessment with %(name)s", discipline=discipline_name,
                       name=appointment.provider.name)
    return gettext("%(discipline)s with %(name)s", discipline=discipline_name, name=appointment.provider.name)


def event_location(appointment: Appointment, clinic_name: str, clinic_location: str) -> str:
    """Where it is held, as every calendar part says it (issue 20): the site and its address, or the video link;
    else the clinic's address (`clinic_location`)."""
    if appointment.virtual:
        return appointment.video_link or gettext("By video")
    if appointment.location is not None:
        return ", ".join(part for part in (clinic_name, appointment.location.name, appointment.location.address)
                         if part)
    return clinic_location


def appointment_event(appointment: Appointment, summary: str, location: str = "") -> Event:
    """A VEVENT in the clinic's zone (the calendar must carry its VTIMEZONE), versioned by the appointment's sequence."""
    cancelled = appointment.status == "cancelled"
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", appointment.updated_at)
    event.add("created", appointment.created_at)
    event.add("last-modified", appointment.updated_at)
    event.add("dtstart", to_local(appointment.starts_at))
    event.add("dtend", to_local(appointment.ends_at))
    event.add("summary", f"Cancelled: {summary}" if cancelled else summary)
    # A session a clinician's time off or changed hours left without a time that holds is not firm (RFC 5545).
    event.add("status", "CANCELLED" if cancelled else "TENTATIVE" if appointment.needs_new_time else "CONFIRMED")
    # A cancelled appointment no longer blocks the time in the owner's calendar.
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    if location:
        event.add("location", location)
    return event
