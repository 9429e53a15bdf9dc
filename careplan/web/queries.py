"""What the pages read: days of appointments, visits, plans waiting. Read-only; changes go through services."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.plans.models import WITH_LINES_AND_TEAM, CarePlan
from careplan.providers.models import Provider
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment, overlapping

# Statuses of an appointment that still takes up its time.
HELD = ("booked", "confirmed", "completed", "no_show")


def appointments_between(start: datetime, end: datetime | None, *, provider_id: int | None = None,
                         patient_id: int | None = None, statuses=HELD) -> list[Appointment]:
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


def by_provider(appointments: list[Appointment]) -> list[tuple[Provider, list[Appointment]]]:
    groups: dict[int, tuple[Provider, list[Appointment]]] = {}
    for appointment in appointments:
        groups.setdefault(appointment.provider_id, (appointment.provider, []))[1].append(appointment)
    return sorted(groups.values(), key=lambda group: (group[0].name, group[0].id))


@dataclass
class Visit:
    """One trip to the clinic: a patient's sessions of the day that follow each other within the allowed wait."""

    patient: Patient
    appointments: list[Appointment] = field(default_factory=list)

    @property
    def arrives(self) -> datetime:
        return self.appointments[0].starts_at

    @property
    def leaves(self) -> datetime:
        return self.appointments[-1].ends_at


def visits(appointments: list[Appointment]) -> list[Visit]:
    """Arrivals in time order; sessions more than the clinic's longest wait apart are separate trips."""
    longest_wait = timedelta(minutes=clinic.settings().max_wait_minutes)
    trips: list[Visit] = []
    latest: dict[int, Visit] = {}
    for appointment in sorted(appointments, key=lambda a: (a.starts_at, a.id)):
        trip = latest.get(appointment.patient_id)
        if trip is None or appointment.starts_at - trip.leaves > longest_wait:
            trip = Visit(appointment.patient)
            trips.append(trip)
            latest[appointment.patient_id] = trip
        trip.appointments.append(appointment)
    return sorted(trips, key=lambda t: (t.arrives, t.patient.name))


def plans_waiting() -> list[tuple[CarePlan, Patient]]:
    """Draft plans, oldest first: the front desk's queue of plans to schedule and book."""
    query = (select(CarePlan, Patient).join(Patient, Patient.id == CarePlan.patient_id)
             .where(CarePlan.status == "draft").order_by(CarePlan.created_at, CarePlan.id))
    return [(plan, patient) for plan, patient in db.session.execute(query)]


def plans_of(patient_id: int, *, include_cancelled: bool = True) -> list[CarePlan]:
    query = (select(CarePlan).where(CarePlan.patient_id == patient_id)
             .options(*WITH_LINES_AND_TEAM)
             .order_by(CarePlan.start_date.desc(), CarePlan.id.desc()))
    if not include_cancelled:
        query = query.where(CarePlan.status != "cancelled")
    return list(db.session.scalars(query))


def upcoming_for_patient(patient_id: int) -> list[Appointment]:
    """From the session under way now onwards."""
    return appointments_between(utcnow(), None, patient_id=patient_id, statuses=ACTIVE_STATUSES)


def past_for_patient(patient_id: int, *, limit: int = 20) -> list[Appointment]:
    query = (select(Appointment).where(Appointment.patient_id == patient_id, Appointment.starts_at < utcnow())
             .options(selectinload(Appointment.provider))
             .order_by(Appointment.starts_at.desc()).limit(limit))
    return list(db.session.scalars(query))


def providers_by_id(ids) -> dict[int, Provider]:
    ids = set(ids)
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Provider).where(Provider.id.in_(ids)))}


def clinic_today() -> date:
    return clinic.to_local(utcnow()).date()


def week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]


def active_providers() -> list[Provider]:
    return list(db.session.scalars(select(Provider).where(Provider.active.is_(True)).order_by(Provider.name)))


def users_by_id(ids) -> dict:
    from careplan.auth.models import User

    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def failed_emails(limit: int = 50) -> list:
    """E-mails the dispatcher gave up on, latest first: the front desk fixes the cause and sends again."""
    from careplan.reminders import service as reminders
    from careplan.reminders.models import OutboundEmail

    query = reminders.list_emails(status="failed").options(
        selectinload(OutboundEmail.patient), selectinload(OutboundEmail.appointment)).limit(limit)
    return list(db.session.scalars(query))


def intakes_of(patient_id: int) -> list:
    from careplan.intake import service as intakes

    return list(db.session.scalars(intakes.list_intakes(patient_id)))


def plans_by_id(ids) -> list[CarePlan]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return []
    return list(db.session.scalars(select(CarePlan).where(CarePlan.id.in_(ids)).options(
        selectinload(CarePlan.patient))))


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


def flagged(limit: int = 500) -> list[Appointment]:
    """Appointments flagged for the front desk (careplan.scheduling.attention), earliest first."""
    from careplan.scheduling import attention

    query = attention.flagged_appointments().options(
        selectinload(Appointment.patient), selectinload(Appointment.provider)).limit(limit)
    return list(db.session.scalars(query))


def flagged_count() -> int:
    from sqlalchemy import func

    from careplan.scheduling import attention

    return db.session.scalar(select(func.count()).select_from(attention.flagged_appointments().subquery()))


def moves_by_patient(patient_id: int, *, limit: int = 20) -> list:
    """The sessions this patient moved themselves (portal, API, e-mail link), newest first, from the audit trail."""
    from careplan.audit.models import AuditEvent
    from careplan.portal.service import MOVED_BY_THE_PATIENT

    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.patient_id == patient_id, AuditEvent.resource == "appointment",
        AuditEvent.action == "update", AuditEvent.detail.startswith(MOVED_BY_THE_PATIENT))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
