"""Queueing patients' e-mails: the hooks booking calls inside its own transaction, and the front desk's view.

The hooks add rows to the outbound queue and flush, never commit: the e-mails
exist exactly when the booking that caused them does, and a dispatcher sends
them later, outside any booking transaction.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import insert, select

from careplan.audit.service import record
from careplan.caller import Caller
from careplan.clinic.service import zone
from careplan.db import utcnow
from careplan.errors import Conflict
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.reminders.models import OutboundEmail
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment
from careplan.records import get_or_404


def offsets_hours() -> list[int]:
    """REMINDER_OFFSETS_HOURS ("48,2"), largest first."""
    raw = str(current_app.config["REMINDER_OFFSETS_HOURS"])
    return sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True)


def reminder_due_times(starts_at: datetime) -> list[tuple[int, datetime]]:
    """(offset, due instant in UTC) per offset, counted on the clinic's wall clock.

    "48 hours before" a 10:00 appointment means 10:00 two days earlier on the
    clinic's clocks, even when a daylight-saving change in between makes that
    47 or 49 real hours. A wall time that does not exist (inside the spring-forward
    gap) resolves to the instant one hour later by the new clock, per PEP 495 fold=0.
    """
    tz = zone()
    wall = starts_at.astimezone(tz).replace(tzinfo=None)
    return [(hours, (wall - timedelta(hours=hours)).replace(tzinfo=tz).astimezone(timezone.utc))
            for hours in offsets_hours()]


def _pending(appointment: Appointment, kinds: tuple[str, ...]) -> list[OutboundEmail]:
    return list(db.session.scalars(select(OutboundEmail).where(
        OutboundEmail.appointment_id == appointment.id, OutboundEmail.kind.in_(kinds),
        OutboundEmail.status == "pending")))


def _withdraw(rows: list[OutboundEmail], reason: str) -> None:
    for row in rows:
        row.status = "cancelled"
        row.last_error = reason


def schedule_reminders(appointment: Appointment, *, now: datetime | None = None) -> list[OutboundEmail]:
    """Queue the appointment's reminders. Offsets already past are skipped: a 48 h reminder for a booking
    made 30 h ahead would arrive late and say the wrong thing; the booking confirmation covers it."""
    return schedule_reminders_for([appointment], now=now)


def schedule_reminders_for(appointments: list[Appointment], *, now: datetime | None = None) -> list[OutboundEmail]:
    """`schedule_reminders` for many appointments (a proposal's) in three statements whatever their number:
    their patients' opt-outs, the reminders already queued, and one INSERT of the new ones."""
    db.session.flush()
    now = now or utcnow()
    if not appointments:
        return []
    opted_out = set(db.session.scalars(select(Patient.id).where(
        Patient.id.in_({a.patient_id for a in appointments}), Patient.reminder_opt_out.is_(True))))
    wanted = [a for a in appointments if a.patient_id not in opted_out and a.status in ACTIVE_STATUSES]
    if not wanted:
        return []
    queued = set(db.session.execute(select(OutboundEmail.appointment_id, OutboundEmail.offset_hours).where(
        OutboundEmail.appointment_id.in_([a.id for a in wanted]), OutboundEmail.kind == "reminder",
        OutboundEmail.status == "pending")).all())
    values = [{"kind": "reminder", "patient_id": a.patient_id, "appointment_id": a.id, "offset_hours": hours,
               "due_at": due, "payload": {}}
              for a in wanted for hours, due in reminder_due_times(a.starts_at)
              if due > now and (a.id, hours) not in queued]
    if not values:
        return []
    rows = list(db.session.scalars(
        insert(OutboundEmail).returning(OutboundEmail).execution_options(render_nulls=True), values))
    # RETURNING's order is the database's; callers read them by appointment and offset, the due order.
    return sorted(rows, key=lambda r: (r.appointment_id, -r.offset_hours))


def retime_reminders(appointment: Appointment, *, now: datetime | None = None) -> list[OutboundEmail]:
    """After a move: the unsent reminders are withdrawn and new ones queued for the new time."""
    db.session.flush()
    _withdraw(_pending(appointment, ("reminder",)), "appointment moved")
    db.session.flush()
    return schedule_reminders(appointment, now=now)


def cancel_reminders(appointment: Appointment, *, notify: bool = True,
                     now: datetime | None = None) -> OutboundEmail | None:
    """Withdraw the unsent reminders and reschedule notices; with notify, queue a cancellation notice
    (sent even to patients who opted out of reminders: it is not a reminder)."""
    db.session.flush()
    _withdraw(_pending(appointment, ("reminder", "reschedule", "video-link")), "appointment cancelled")
    if _unannounced(appointment) or not notify:
        db.session.flush()
        return None
    return _queue("cancellation", appointment.patient_id, appointment.id, {}, now)


def _unannounced(appointment: Appointment) -> bool:
    """Take the appointment out of its booking confirmation if that has not gone out yet; whether it had not.

    Found in use: a video visit booked and cancelled within a minute got a confirmation (composed after the
    cancellation, so without its link) and a cancellation in the same minute. A confirmation left with nothing
    is not sent, and the patient is not told of cancelling a booking they never heard of."""
    unannounced = False
    # Locked, so a dispatcher cannot claim one meanwhile; one it already claimed may be going out: the patient
    # is then told of the cancellation as before.
    for row in db.session.scalars(select(OutboundEmail).where(
            OutboundEmail.patient_id == appointment.patient_id, OutboundEmail.kind == "booking-confirmation",
            OutboundEmail.status == "pending").with_for_update()):
        ids = row.payload.get("appointment_ids") or []
        if appointment.id not in ids or row.lease_owner is not None:
            continue
        unannounced = True
        rest = [i for i in ids if i != appointment.id]
        row.payload = {**row.payload, "appointment_ids": rest}
        if not rest:
            _withdraw([row], "every appointment in it was cancelled before it went out")
    return unannounced


def queue_booking_confirmation(patient: Patient, appointments: list[Appointment], *,
                               now: datetime | None = None) -> OutboundEmail:
    """One e-mail listing the appointments just booked (a plan's, or a single one)."""
    db.session.flush()
    ids = [a.id for a in sorted(appointments, key=lambda a: a.starts_at)]
    return _queue("booking-confirmation", patient.id, None, {"appointment_ids": ids}, now)


def queue_reschedule_notice(appointment: Appointment, *, previous_starts_at: datetime | None = None,
                            previous_provider_id: int | None = None,
                            now: datetime | None = None) -> OutboundEmail:
    """Tell the patient where the appointment moved, and from whom when the clinician changed; an earlier
    notice not yet sent is superseded, and what it would have said was before stays what the patient knew."""
    db.session.flush()
    unsent = _pending(appointment, ("reschedule",))
    if unsent:
        payload = {key: value for key, value in unsent[0].payload.items() if key.startswith("previous_")}
    else:
        payload = {"previous_provider_id": previous_provider_id}
        if previous_starts_at:
            payload["previous_starts_at"] = previous_starts_at.astimezone(timezone.utc).isoformat()
    # Back with the clinician they had, the patient need not hear of another one.
    if payload.get("previous_provider_id") in (None, appointment.provider_id):
        payload.pop("previous_provider_id", None)
    _withdraw(unsent, "superseded by a later change")
    return _queue("reschedule", appointment.patient_id, appointment.id, payload, now)


def queue_video_link_notice(appointment: Appointment, *, replaces: bool = False,
                             now: datetime | None = None) -> OutboundEmail:
    """Tell the patient how to join a video session whose link was given after booking (the booking's own
    e-mails said the clinic would send it), or that it has a new one (`replaces`); an earlier such notice not
    yet sent is superseded."""
    withdraw_video_link_notice(appointment, "superseded by a later link")
    return _queue("video-link", appointment.patient_id, appointment.id, {"replaces": replaces} if replaces else {},
                  now)


def withdraw_video_link_notice(appointment: Appointment, reason: str = "the link was taken away") -> None:
    """A notice of the session's link not yet sent is not sent (the link was taken away, or another follows)."""
    db.session.flush()
    _withdraw(_pending(appointment, ("video-link",)), reason)


def _queue(kind: str, patient_id: int, appointment_id: int | None, payload: dict,
           now: datetime | None) -> OutboundEmail:
    row = OutboundEmail(kind=kind, patient_id=patient_id, appointment_id=appointment_id, payload=payload,
                        due_at=now or utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def list_emails(*, status: str | None = None, kind: str | None = None, patient_id: int | None = None,
                appointment_id: int | None = None):
    query = select(OutboundEmail).order_by(OutboundEmail.due_at.desc(), OutboundEmail.id.desc())
    for column, value in ((OutboundEmail.status, status), (OutboundEmail.kind, kind),
                          (OutboundEmail.patient_id, patient_id), (OutboundEmail.appointment_id, appointment_id)):
        if value is not None:
            query = query.where(column == value)
    return query


def get_email(email_id: int) -> OutboundEmail:
    return get_or_404(OutboundEmail, email_id, f"No e-mail {email_id}.")


def retry_email(email_id: int, *, caller: Caller) -> OutboundEmail:
    """The front desk fixed the cause (an address, the mail server): send a failed e-mail again."""
    row = get_email(email_id)
    if row.status != "failed":
        raise Conflict(f"E-mail {email_id} is {row.status}; only a failed e-mail can be sent again.",
                       fields={"status": row.status})
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = None
    row.lease_owner = None
    row.lease_expires_at = None
    row.due_at = utcnow()
    record("update", "reminder", row.id, row.patient_id, detail="sent again", caller=caller)
    db.session.commit()
    return row


def failed_emails(limit: int = 50) -> list[OutboundEmail]:
    """E-mails the dispatcher gave up on, latest first: the front desk fixes the cause and sends again."""
    from sqlalchemy.orm import selectinload

    query = list_emails(status="failed").options(
        selectinload(OutboundEmail.patient), selectinload(OutboundEmail.appointment)).limit(limit)
    return list(db.session.scalars(query))
