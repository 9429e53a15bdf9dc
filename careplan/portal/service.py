"""A patient's own changes to their schedule, callable without HTTP (the caller is an argument).

Each function works on the caller's own appointments only: a patient never names another patient's
record here, so there is nothing to probe.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from careplan.audit.service import record
from careplan.caller import Caller
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.errors import Forbidden
from careplan.extensions import db
from careplan.scheduling.models import Appointment


def patient_id_of(caller: Caller) -> int:
    if caller.user is None or caller.role != "patient" or caller.user.patient_id is None:
        raise Forbidden("Only a patient acts on their own appointments here.")
    return caller.user.patient_id


def week_bounds(day: date) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 in the clinic's zone, around `day` (the plans' weeks too)."""
    monday = day - timedelta(days=day.weekday())
    return clinic.local_day_bounds(monday)[0], clinic.local_day_bounds(monday + timedelta(days=7))[0]


def confirm_many(caller: Caller, *, week_of: date | None = None, now: datetime | None = None) -> list[Appointment]:
    """Confirm the caller's booked, not yet started appointments: those of the clinic week holding `week_of`,
    or all upcoming ones when it is None. Returns the ones confirmed now (already confirmed ones stay as
    they are), all in one transaction."""
    patient_id = patient_id_of(caller)
    now = now or utcnow()
    query = (select(Appointment)
             .where(Appointment.patient_id == patient_id, Appointment.status == "booked",
                    Appointment.starts_at > now)
             .order_by(Appointment.starts_at, Appointment.id))
    if week_of is not None:
        start, end = week_bounds(week_of)
        query = query.where(Appointment.starts_at >= start, Appointment.starts_at < end)
    confirmed = list(db.session.scalars(query))
    scope = f"the week of {week_of.isoformat()}" if week_of is not None else "all upcoming"
    for appointment in confirmed:
        appointment.status = "confirmed"
        record("update", "appointment", appointment.id, patient_id,
               detail=f"confirmed by the patient ({scope}, from the {caller.origin})")
    db.session.commit()
    return confirmed
