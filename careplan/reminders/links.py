"""Signed, expiring confirm and cancel links from e-mails, usable without signing in.

A link names one appointment, one action and the appointment's version
(`sequence`): it works once, and stops working when the appointment changes or
the link grows older than EMAIL_LINK_MAX_AGE_HOURS. Inside the clinic's late
cancellation window a link does not cancel: the patient is asked to call, so
that the front desk, not a click, decides how a late cancellation is handled.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from careplan.audit.service import note_denied, record
from careplan.caller import Caller
from careplan.clinic.service import settings
from careplan.db import utcnow
from careplan.errors import Conflict, NotFound
from careplan.extensions import db
from careplan.reminders.models import LINK_ACTIONS, AppointmentLinkUse
from careplan.records import get_or_404
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment
from careplan.scheduling.service import cancel, late_cancellation, needs_new_time_message

SALT = "careplan.appointment-link"
# The "I can't make it" link: it opens the alternatives (careplan.portal); the move it leads to bumps the
# appointment's sequence, which is what makes the link stale, so it needs no use row.
MOVE = "move"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def link_token(appointment: Appointment, action: str) -> str:
    return _serializer().dumps({"a": appointment.id, "do": action, "s": appointment.sequence})


def link_url(appointment: Appointment, action: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/api/v1/appointment-links/{link_token(appointment, action)}"


def addressee(token: str):
    """The patient a link of ours was sent to (whatever its age), for answering in their language; None for
    a link we did not sign."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    appointment = (db.session.get(Appointment, data["a"])
                   if isinstance(data, dict) and isinstance(data.get("a"), int) else None)
    return appointment.patient if appointment is not None else None


@dataclass
class Link:
    appointment: Appointment | None
    action: str
    # Why the link cannot be used now, in the patient's words; None when it can.
    problem: str | None


def read_link(token: str, *, caller: Caller, now: datetime | None = None) -> Link:
    """What the link would do, for its page: a read of the appointment by whoever holds the link."""
    link = _open(token, caller=caller, now=now)
    record("read", "appointment", link.appointment.id, link.appointment.patient_id, detail="e-mail link page",
           caller=caller)
    return link


def _open(token: str, *, caller: Caller, now: datetime | None = None) -> Link:
    """What the link would do; NotFound for a link this service did not sign."""
    max_age = int(current_app.config["EMAIL_LINK_MAX_AGE_HOURS"] * 3600)
    serializer = _serializer()
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        # Signed by us, only too old: the page can still say which appointment it was for.
        data = _payload(serializer.load_payload(exc.payload))
        appointment = get_or_404(Appointment, data["a"], gettext("This link is not valid."))
        return Link(appointment, data["do"], gettext("This link has expired. Please use a newer e-mail or call the clinic."))
    except BadSignature:
        # Links need no sign-in, so a forged one is the only trace of someone trying them.
        note_denied("appointment_link", "", detail="not a link this clinic signed", caller=caller)
        raise NotFound(gettext("This link is not valid.")) from None
    data = _payload(data)
    appointment = get_or_404(Appointment, data["a"], gettext("This link is not valid."))
    return Link(appointment, data["do"], _problem(appointment, data["do"], data["s"], now or utcnow()))


def _payload(data) -> dict:
    if (not isinstance(data, dict) or data.get("do") not in LINK_ACTIONS + (MOVE,)
            or not isinstance(data.get("a"), int) or not isinstance(data.get("s"), int)):
        raise NotFound(gettext("This link is not valid."))
    return data


def _problem(appointment: Appointment, action: str, sequence: int, now: datetime) -> str | None:
    used = db.session.scalar(select(AppointmentLinkUse.id).where(
        AppointmentLinkUse.appointment_id == appointment.id, AppointmentLinkUse.action == action,
        AppointmentLinkUse.sequence == sequence))
    if used is not None:
        return gettext("This link has been used already.")
    if appointment.status == "cancelled":
        return gettext("This appointment is cancelled.")
    if appointment.status not in ACTIVE_STATUSES or appointment.starts_at <= now:
        return gettext("This appointment is over.")
    if sequence != appointment.sequence:
        return gettext("This appointment has changed since this e-mail was sent. Please use the newest e-mail.")
    if action == "confirm" and appointment.flag_reason is not None:
        return needs_new_time_message()
    # Only a signed-in patient or the desk records a late cancellation; one the clinic cannot keep (its
    # clinician is away) is never late, so its link cancels it.
    if action == "cancel" and late_cancellation(appointment, now):
        return gettext("It is less than %(hours)s hours before the appointment, so it cannot be cancelled online. "
                       "Please call the clinic.", hours=settings().late_cancel_hours)
    return None


def use_link(token: str, *, caller: Caller, now: datetime | None = None) -> Link:
    """Confirm or cancel; a second use of the same link is refused (409)."""
    now = now or utcnow()
    link = _open(token, caller=caller, now=now)
    if link.problem:
        raise Conflict(link.problem)
    appointment = link.appointment
    db.session.add(AppointmentLinkUse(appointment_id=appointment.id, action=link.action,
                                      sequence=appointment.sequence, used_at=now))
    if link.action == "confirm":
        appointment.status = "confirmed"
    else:
        # Never late: a link inside the late-cancellation window was refused above, unless the clinic
        # could not keep the time.
        cancel(appointment, "Cancelled by the patient from an e-mail link.", now, caller=caller)
    record("update", "appointment", appointment.id, appointment.patient_id,
           detail=f"{appointment.status} from an e-mail link", caller=caller)
    try:
        db.session.commit()
    except IntegrityError:
        # Two clicks at once: the unique use row lets exactly one through.
        db.session.rollback()
        raise Conflict(gettext("This link has been used already.")) from None
    return link
