"""The rooms view of the clinic calendar (issue 20): one location's day, room by room (a room for N shown as
its N places), with the appointments holding each; a read of plain rows like the day grid."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from careplan.calendar.service import SHOWN, Booked, DayGrid, visit_numbers
from careplan.clinic import service as clinic
from careplan.errors import Invalid
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.rooms.models import Location, Room
from careplan.scheduling.models import Appointment, overlapping


@dataclass
class Place:
    """One place of a room (the room itself when it takes one session at a time)."""

    room: Room
    unit: int
    appointments: list[Booked] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.room.name if self.room.capacity == 1 else f"{self.room.name}, place {self.unit}"


@dataclass
class RoomsDay:
    day: date
    location: Location
    places: list[Place]
    # For the calendar's blocks (visit numbers across the location's rooms).
    grid: DayGrid


def rooms_day(day: date, location_id: int) -> RoomsDay:
    location = db.session.get(Location, location_id)
    if location is None:
        raise Invalid("No such location.", fields={"location_id": f"no location {location_id}"})
    rooms = list(db.session.scalars(select(Room).where(Room.location_id == location_id, Room.active.is_(True))
                                    .order_by(Room.name, Room.id)))
    places = {(room.id, unit): Place(room, unit) for room in rooms for unit in range(1, room.capacity + 1)}
    start, end = clinic.local_day_bounds(day)
    rows = db.session.execute(
        select(Appointment.room_id, Appointment.room_unit, Appointment.id, Appointment.patient_id, Patient.name,
               Appointment.provider_id, Appointment.discipline_code, Appointment.kind, Appointment.status,
               Appointment.starts_at, Appointment.ends_at, Appointment.arrived_at, Appointment.plan_id,
               Appointment.phase_name, Appointment.plan_week, Appointment.flag_reason)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Appointment.room_id.in_([r.id for r in rooms]), Appointment.status.in_(SHOWN),
               overlapping(Appointment, start, end))
        .order_by(Appointment.starts_at, Appointment.id)) if rooms else []
    booked = []
    for room_id, unit, *fields in rows:
        appointment = Booked(*fields)
        booked.append(appointment)
        place = places.get((room_id, unit))
        if place is not None:
            place.appointments.append(appointment)
    grid = DayGrid(day, clinic.settings().slot_minutes, start, end, [], visit_numbers(booked))
    return RoomsDay(day, location, list(places.values()), grid)
