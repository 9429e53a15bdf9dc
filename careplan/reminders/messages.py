"""Turning a queued e-mail into the message sent: templates, the calendar part, the links.

Minimum necessary: the time, the place, the clinician's name and discipline.
Never a diagnosis, a plan's reasons or notes.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template
from flask_babel import gettext, lazy_gettext
from flask_mailman import EmailMessage
from sqlalchemy import select

from careplan.clinic.models import Discipline
from careplan.clinic.service import discipline_name, settings, to_local
from careplan.db import utcnow
from careplan.extensions import db
from careplan.i18n import long_day, speaking
from careplan.mail.message import build, calendar, domain_of
from careplan.reminders.links import link_url
from careplan.reminders.models import OutboundEmail
from careplan.scheduling.calendar import appointment_uid, event_location, patient_summary
from careplan.providers.models import Provider
from careplan.scheduling.models import Appointment

SUBJECTS = {
    "reminder": lazy_gettext("Reminder: %(first)s at %(clinic)s"),
    "booking-confirmation": lazy_gettext("Your appointments at %(clinic)s are booked"),
    "cancellation": lazy_gettext("Cancelled: %(first)s at %(clinic)s"),
    "reschedule": lazy_gettext("Moved: your appointment at %(clinic)s is now %(first)s"),
    "slot-offer": lazy_gettext("An earlier time at %(clinic)s: %(first)s"),
    "slot-gone": lazy_gettext("The earlier time at %(clinic)s has gone"),
    "video-link": lazy_gettext("How to join your video session at %(clinic)s, %(first)s"),
}
CALENDAR_METHODS = {"reminder": "REQUEST", "reschedule": "REQUEST", "cancellation": "CANCEL",
                    "booking-confirmation": "PUBLISH", "video-link": "REQUEST"}


def mail_domain() -> str:
    return domain_of(current_app.config["MAIL_DEFAULT_SENDER"])


def message_id(row: OutboundEmail) -> str:
    """Derived from the row alone: a resend after a crash between sending and marking keeps the same id."""
    return f"<careplan-email-{row.id}@{mail_domain()}>"


def when(moment: datetime) -> str:
    """Tuesday 5 January 2027 at 10:00 (EST), in the language being rendered."""
    local = to_local(moment)
    return gettext("%(day)s at %(time)s (%(zone)s)", day=long_day(local.date()), time=local.strftime("%H:%M"), zone=local.tzname())


def describe(appointment: Appointment) -> dict:
    discipline = db.session.get(Discipline, appointment.discipline_code)
    return {"when": when(appointment.starts_at), "minutes": appointment.minutes,
            "provider": appointment.provider.name,
            "title": gettext(discipline.practitioner_title) if discipline else appointment.discipline_code,
            "where": where(appointment)}


def where(appointment: Appointment) -> str | None:
    """Where to go (the location and its address) or how to join (the video link), and nothing more: no room,
    no floor plan. None for a clinic without locations (its address closes the message). A cancelled video
    session is joined by no link: it was by video, and that is all."""
    if appointment.virtual:
        if appointment.status == "cancelled":
            return gettext("By video")
        if appointment.video_link:
            return gettext("By video: %(link)s", link=appointment.video_link)
        return gettext("By video (the clinic will send the link)")
    location = appointment.location
    if location is None:
        return None
    if location.address:
        return gettext("At %(place)s, %(address)s", place=location.name, address=location.address)
    return gettext("At %(place)s", place=location.name)



def appointments_of(row: OutboundEmail) -> list[Appointment]:
    if row.kind == "booking-confirmation":
        ids = row.payload.get("appointment_ids") or []
        return list(db.session.scalars(select(Appointment).where(Appointment.id.in_(ids))
                                       .order_by(Appointment.starts_at)))
    return [row.appointment] if row.appointment is not None else []


def compose(row: OutboundEmail) -> EmailMessage:
    """The message in the patient's language: text, HTML, subject and the calendar part's summary."""
    with speaking(row.patient):
        return _compose(row)


def _compose(row: OutboundEmail) -> EmailMessage:
    clinic = settings()
    appointments = appointments_of(row)
    if not appointments:
        raise ValueError("none of its appointments exists any more")
    first = appointments[0]
    described = [describe(a) for a in appointments]
    context = {
        "patient_name": row.patient.name, "clinic": clinic, "late_cancel_hours": clinic.late_cancel_hours,
        "appointments": described,
        # The clinic's own address only where it is where to go: not for video sessions, nor when each
        # appointment names its location's address.
        "clinic_address": clinic.address if any(a.location_id is None and not a.virtual for a in appointments)
        else "",
    }
    if row.kind == "reminder":
        context["confirm_url"] = link_url(first, "confirm")
        context["cancel_url"] = link_url(first, "cancel")
        context["move_url"] = link_url(first, "move")
    if row.kind == "video-link":
        context["replaces"] = bool(row.payload.get("replaces"))
    if row.kind == "reschedule" and row.payload.get("previous_starts_at"):
        context["previous_when"] = when(datetime.fromisoformat(row.payload["previous_starts_at"]))
        # Found in use: a move to the same hour with another clinician read as if nothing had changed.
        before = db.session.get(Provider, row.payload["previous_provider_id"]) \
            if row.payload.get("previous_provider_id") else None
        context["previous_with"] = before.name if before is not None else ""
    subject_first = when(first.starts_at)
    if row.kind in ("slot-offer", "slot-gone"):
        from careplan.portal.models import SlotOffer
        from careplan.portal.offers import offer_url

        offer = db.session.get(SlotOffer, row.payload.get("offer_id"))
        if offer is None:
            raise ValueError("the offer does not exist any more")
        subject_first = context["offered_when"] = when(offer.starts_at)
        context["offered_provider"] = db.session.get(Provider, offer.provider_id).name
        context["accept_url"] = offer_url(offer)
        context["expires_when"] = when(offer.expires_at)
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    # Titled and placed as the patient's calendar feed and download do: the same UID, so a calendar that holds
    # the event from both shows one title and one place.
    clinic_location = ", ".join(part for part in (clinic.name, clinic.address) if part)
    events = [{"uid": appointment_uid(a), "sequence": a.sequence, "start": to_local(a.starts_at),
               "end": to_local(a.ends_at), "summary": patient_summary(a, discipline_name(a.discipline_code)),
               "location": event_location(a, clinic.name, clinic_location), "cancelled": row.kind == "cancellation"}
              for a in appointments]
    # An offer is not an appointment yet: no calendar part until the patient takes it.
    method = CALENDAR_METHODS.get(row.kind)
    return build(
        kind=row.kind, message_id=message_id(row), sender=sender, to_name=row.patient.name,
        to_email=row.patient.email,
        subject=str(SUBJECTS[row.kind]) % {"first": subject_first, "clinic": clinic.name},
        text=render_template(f"email/{row.kind}.txt", **context),
        html=render_template(f"email/{row.kind}.html", **context),
        calendar=calendar(events, method=method, organizer=sender_address(sender), attendee=row.patient.email,
                          stamp=utcnow()) if method else None,
        calendar_method=method)


def sender_address(sender: str) -> str:
    """The bare address of MAIL_DEFAULT_SENDER ("Clinic <desk@clinic>" -> desk@clinic), for ORGANIZER."""
    return sender.rpartition("<")[2].rstrip(">").strip()
