"""A day's appointments arranged for the pages: by clinician, and as visits (a patient's trips to the clinic).
No queries here: the appointments come from careplan.scheduling.service."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from careplan.clinic import service as clinic
from careplan.patients.models import Patient
from careplan.providers.models import Provider
from careplan.scheduling.models import Appointment


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


def visits(appointments: list[Appointment], *, in_person_only: bool = False, video_apart: bool = False) -> list[Visit]:
    """Arrivals in time order; sessions more than the clinic's longest wait apart are separate trips.
    in_person_only: the trips to the clinic alone (the desk's arrivals): a video session brings no one in.
    video_apart: video sessions make visits of their own (the patient's page): a card "12:00-14:50 at King West"
    holding a video session at 14:00 told the patient they were at King West until 14:50."""
    longest_wait = timedelta(minutes=clinic.settings().max_wait_minutes)
    trips: list[Visit] = []
    latest: dict[tuple[int, bool], Visit] = {}
    for appointment in sorted(appointments, key=lambda a: (a.starts_at, a.id)):
        if in_person_only and appointment.virtual:
            continue
        key = (appointment.patient_id, video_apart and appointment.virtual)
        trip = latest.get(key)
        if trip is None or appointment.starts_at - trip.leaves > longest_wait:
            trip = Visit(appointment.patient)
            trips.append(trip)
            latest[key] = trip
        trip.appointments.append(appointment)
    return sorted(trips, key=lambda t: (t.arrives, t.patient.name))


def week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]

