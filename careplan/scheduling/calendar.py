"""An appointment as an iCalendar event, the one way every part of careplan writes it.

The UID is what lets a calendar recognise the same appointment across the
feeds and the reminder e-mails (an update replaces the event instead of
adding a second one), so it is defined here and nowhere else.
"""
from __future__ import annotations

from icalendar import Event

from careplan.clinic.service import to_local
from careplan.scheduling.models import Appointment


def appointment_uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.id}@careplan"


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
