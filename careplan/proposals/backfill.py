"""Backfill: the slot a cancellation freed, offered to the plans whose unscheduled sessions it could serve.

A plan qualifies when the freed slot falls in one of its plan weeks whose phase asks for a discipline the
slot's provider gives, and that week has fewer appointments of it than the plan asks for; the session must
fit the provider's hours (and be free of their other appointments, holds and time off), the patient's weekly
windows, the patient's calendar, and the line's spacing. Each candidate carries the body that books it
through the normal POST /api/v1/appointments.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from careplan.audit.service import record
from careplan.caller import Caller
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.errors import Conflict, Invalid
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.plans.models import WITH_LINES_AND_TEAM, CarePlan
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment
from careplan.scheduling.service import (Booking, check_booking, find_conflicts, get_appointment,
                                         within_windows)


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment).where(*conditions)) or 0


def _spaced(plan: CarePlan, discipline: str, start: datetime, gap_days: int) -> bool:
    """No other session of that discipline within the line's min_gap_days (calendar days, clinic dates)."""
    day = clinic.to_local(start).date()
    for other in db.session.scalars(select(Appointment).where(
            Appointment.patient_id == plan.patient_id, Appointment.discipline_code == discipline,
            Appointment.status != "cancelled", Appointment.kind == "treatment",
            Appointment.starts_at > start - timedelta(days=gap_days + 1),
            Appointment.starts_at < start + timedelta(days=gap_days + 1))):
        if abs((clinic.to_local(other.starts_at).date() - day).days) < gap_days:
            return False
    return True


def backfill_candidates(appointment_id: int, *, caller: Caller, now: datetime | None = None) -> list[dict]:
    """Ranked: patients with the fewest upcoming sessions first, then the most sessions missing from their
    plan, the earliest plan week, and continuity (the freed slot's provider already treats them)."""
    now = now or utcnow()
    freed = get_appointment(appointment_id)
    if freed.status != "cancelled":
        raise Conflict(f"Appointment {freed.id} is {freed.status}; only a cancelled appointment frees its slot.",
                       fields={"status": freed.status})
    if freed.starts_at <= now:
        raise Conflict(f"Appointment {freed.id}'s time has passed.", fields={"start": "in the past"})
    provider = freed.provider
    candidates = []
    plans = db.session.scalars(
        select(CarePlan)
        .where(CarePlan.status.in_(("booked", "active")), CarePlan.patient_id != freed.patient_id)
        .options(*WITH_LINES_AND_TEAM, selectinload(CarePlan.patient).selectinload(Patient.availability)))
    day = clinic.to_local(freed.starts_at).date()
    disciplines = set(provider.discipline_codes)
    for plan in plans:
        week = (day - plan.week_zero).days // 7
        if day < plan.start_date:
            continue
        phase = next((p for p in plan.phases if p.first_week <= week < p.first_week + p.weeks), None)
        if phase is None:
            continue
        offers = []
        # A discipline the care team requires someone else for is never offered this provider's slot.
        required = {m.discipline_code: m.provider_id for m in plan.care_team if m.required}
        for line in phase.lines:
            if line.discipline_code not in disciplines or not line.due_in(week):
                continue
            if required.get(line.discipline_code, provider.id) != provider.id:
                continue
            booked = _count(Appointment.plan_id == plan.id, Appointment.plan_week == week,
                            Appointment.discipline_code == line.discipline_code, Appointment.status != "cancelled")
            if booked >= line.per_week:
                continue
            offer = _offer(plan, phase.name, week, line, freed, now)
            if offer is not None:
                offers.append((line, booked, offer))
        if not offers:
            continue
        # The same for each of the plan's offers: counted once.
        upcoming = _count(Appointment.patient_id == plan.patient_id, Appointment.status.in_(ACTIVE_STATUSES),
                          Appointment.starts_at > now)
        continuity = any(m.provider_id == provider.id for m in plan.care_team) or _count(
            Appointment.patient_id == plan.patient_id, Appointment.provider_id == provider.id,
            Appointment.status != "cancelled") > 0
        for line, booked, offer in offers:
            candidates.append({
                "plan_id": plan.id, "patient_id": plan.patient_id, "patient_name": plan.patient.name,
                "discipline": line.discipline_code, "phase": phase.name, "week": week,
                "missing_that_week": line.per_week - booked, "upcoming_sessions": upcoming,
                "continuity": continuity, "booking": offer,
            })
    candidates.sort(key=lambda c: (c["upcoming_sessions"], -c["missing_that_week"], c["week"],
                                   not c["continuity"], c["plan_id"]))
    # The candidates' names and plans are shown as well as the freed appointment: each is named.
    record("read", "appointment", freed.id, patient_id=freed.patient_id,
           detail="backfill candidates: plans " + ",".join(str(c["plan_id"]) for c in candidates),
           caller=caller, patients=[c["patient_id"] for c in candidates])
    return candidates


def _offer(plan: CarePlan, phase: str, week: int, line, freed: Appointment, now: datetime) -> dict | None:
    """The booking body for this plan's session in the freed slot, if it fits every rule."""
    booking = Booking(patient_id=plan.patient_id, provider_id=freed.provider_id, discipline=line.discipline_code,
                      start=freed.starts_at, minutes=line.minutes, plan_id=plan.id, phase=phase, week=week)
    if not within_windows(plan.patient.availability, booking.start, booking.end):
        return None
    if not _spaced(plan, line.discipline_code, booking.start, line.min_gap_days):
        return None
    try:
        check_booking(booking, now)
    except Invalid:
        return None
    if find_conflicts([booking], [None], now=now) is not None:
        return None
    return {"patient_id": booking.patient_id, "provider_id": booking.provider_id,
            "discipline": booking.discipline, "start": booking.start, "minutes": booking.minutes,
            "kind": "treatment", "plan_id": plan.id, "phase": phase, "week": week}
