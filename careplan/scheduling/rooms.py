"""Where an in-person appointment is held and which room it holds; video appointments hold neither.

A room of capacity N has N places; an appointment of a discipline with a room kind takes one place of one
room of that kind, at the location where its provider works at that time, for its whole length. The
database refuses two non-cancelled appointments on the same (room, place) at overlapping times
(ROOM_GUARD: an exclusion constraint on PostgreSQL, triggers on SQLite, migration 6d0cd389d631), so
no number of concurrent bookings can put more sessions in a room than its capacity; the service picks the
lowest free place, and a booking that raced another for it gets the same 409 as a clinician's double
booking.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from careplan.clinic import service as clinic
from careplan.clinic.models import Discipline
from careplan.errors import Conflict, Invalid
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.providers.models import Provider
from careplan.rooms.models import Location, Room
from careplan.scheduling.models import Appointment, overlapping

ROOM_GUARD = "appointments_room_no_overlap"


@dataclass
class _Spot:
    """What `place` reads and fills, for an appointment being moved (a booking is a scheduling.service.Booking)."""

    patient_id: int
    provider_id: int
    discipline: str
    start: datetime
    end: datetime
    field: str = ""
    virtual: bool = False
    location_id: int | None = None
    room_id: int | None = None
    room_unit: int | None = None


def places_in_use(room_id: int, now: datetime) -> int:
    """The highest place of the room that a coming, non-cancelled appointment holds (0: none)."""
    return db.session.scalar(select(func.max(Appointment.room_unit)).where(
        Appointment.room_id == room_id, Appointment.status != "cancelled", Appointment.ends_at > now)) or 0


def location_at(provider: Provider, start: datetime, end: datetime) -> int | None:
    """The location of the provider's weekly window that holds [start, end) (None: no location named)."""
    day = clinic.to_local(start).date()
    for window in provider.availability:
        if window.day == day.weekday() and clinic.local_datetime(day, window.start) <= start \
                and end <= clinic.local_datetime(day, window.end):
            return window.location_id
    return None


def _taken_places(room_id: int, start: datetime, end: datetime, exclude_id: int | None) -> set[int]:
    query = select(Appointment.room_unit).where(
        Appointment.room_id == room_id, Appointment.status != "cancelled", overlapping(Appointment, start, end))
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return set(db.session.scalars(query))


def _free_place(room: Room, start: datetime, end: datetime, exclude_id: int | None,
                earlier: list) -> int | None:
    taken = _taken_places(room.id, start, end, exclude_id)
    taken |= {b.room_unit for b in earlier if b.room_id == room.id and b.start < end and start < b.end}
    return next((unit for unit in range(1, room.capacity + 1) if unit not in taken), None)


def place(bookings: list, exclude_ids: list[int | None] | None = None) -> None:
    """Fill in each booking's location_id, room_id and room_unit (scheduling.service.Booking), or raise:
    Invalid (422) for a room, location or video session that does not fit the rules, Conflict (409)
    when every room of the kind there is full then. A fixed number of statements for any number of bookings:
    the rules first for all of them, then one read of the places taken in every candidate room."""
    exclude_ids = exclude_ids or [None] * len(bookings)
    kinds = dict(db.session.execute(select(Discipline.code, Discipline.room_kind)).all())
    # Held here, not only in the session's (weak) identity map, so each booking's `get` finds them.
    open_rooms = list(db.session.scalars(select(Room).where(Room.active.is_(True)).order_by(Room.id)))
    providers = {p.id: p for p in db.session.scalars(
        select(Provider).where(Provider.id.in_({b.provider_id for b in bookings if not b.virtual}))
        .options(selectinload(Provider.availability)))}
    virtual_patients = {b.patient_id for b in bookings if b.virtual}
    patients = {p.id: p for p in db.session.scalars(select(Patient).where(Patient.id.in_(virtual_patients)))} \
        if virtual_patients else {}
    wanting: list[tuple] = []
    for booking, exclude_id in zip(bookings, exclude_ids):
        f = booking.field
        if booking.virtual:
            if booking.room_id is not None or booking.location_id is not None:
                raise Invalid("A video session has no room or location.",
                              fields={f"{f}virtual": "a video session holds no room and no location"})
            patient = patients.get(booking.patient_id)
            if patient is not None and not patient.accepts_virtual:
                raise Invalid("This patient has not accepted video sessions.",
                              fields={f"{f}virtual": f"patient {patient.id} does not accept video sessions"})
            booking.room_unit = None
            continue
        provider = providers.get(booking.provider_id) or db.session.get(Provider, booking.provider_id)
        working_at = location_at(provider, booking.start, booking.end)
        if booking.location_id is not None:
            location = db.session.get(Location, booking.location_id)
            if location is None or not location.active:
                raise Invalid("Unknown location.", fields={f"{f}location_id": f"no open location {booking.location_id}"})
            if working_at is not None and working_at != booking.location_id:
                raise Invalid("The provider works elsewhere then.",
                              fields={f"{f}location_id": f"provider {provider.id} works at location {working_at} then"})
        else:
            booking.location_id = working_at
        kind = kinds.get(booking.discipline)
        if booking.room_id is not None:
            room = db.session.get(Room, booking.room_id)
            if room is None or not room.active:
                raise Invalid("Unknown room.", fields={f"{f}room_id": f"no open room {booking.room_id}"})
            if kind is None or room.kind != kind:
                raise Invalid("Not a room this session holds.",
                              fields={f"{f}room_id": f"{booking.discipline} holds "
                                                     f"{'no room' if kind is None else 'a ' + kind + ' room'}"})
            if booking.location_id is not None and room.location_id != booking.location_id:
                raise Invalid("That room is at another location.",
                              fields={f"{f}room_id": f"room {room.id} is not at location {booking.location_id}"})
            candidates = [room]
        elif kind is None:
            booking.room_unit = None
            continue
        else:
            candidates = [r for r in open_rooms if r.kind == kind
                          and (booking.location_id is None or r.location_id == booking.location_id)]
            if not candidates:
                where = f" at location {booking.location_id}" if booking.location_id is not None else ""
                raise Invalid(f"No {kind} room{where}.",
                              fields={f"{f}room_id": f"{booking.discipline} holds a {kind} room and there is "
                                                     f"none{where}"})
        wanting.append((booking, exclude_id, candidates, kind))
    if not wanting:
        return
    taken = db.session.execute(select(Appointment.id, Appointment.room_id, Appointment.room_unit,
                                      Appointment.starts_at, Appointment.ends_at).where(
        Appointment.room_id.in_({room.id for _, _, candidates, _ in wanting for room in candidates}),
        Appointment.status != "cancelled",
        or_(*(overlapping(Appointment, b.start, b.end) for b, _, _, _ in wanting)))).all()
    done: list = []
    for booking, exclude_id, candidates, kind in wanting:
        for room in candidates:
            busy = {unit for id_, room_id, unit, start, end in taken if room_id == room.id and id_ != exclude_id
                    and start < booking.end and booking.start < end}
            busy |= {b.room_unit for b in done if b.room_id == room.id and b.start < booking.end
                     and booking.start < b.end}
            unit = next((u for u in range(1, room.capacity + 1) if u not in busy), None)
            if unit is not None:
                booking.room_id, booking.room_unit = room.id, unit
                booking.location_id = room.location_id
                done.append(booking)
                break
        else:
            raise Conflict("That time is no longer free.",
                           fields={f"{booking.field}room_id": f"every {kind or candidates[0].kind} room there is "
                                                              "taken then"},
                           extra={"conflicting_appointment_ids": [], "conflicting_proposal_ids": []})


def replace(appointment: Appointment, provider_id: int, start: datetime, end: datetime) -> None:
    """A moved appointment's place: the same room when it is free at the new time, else another of its kind
    where the provider then works (a Conflict when there is none); video sessions stay without one."""
    if appointment.virtual:
        return
    booking = _Spot(appointment.patient_id, provider_id, appointment.discipline_code, start, end)
    provider = db.session.get(Provider, provider_id)
    same_place = appointment.location_id is None or location_at(provider, start, end) in (None, appointment.location_id)
    if appointment.room_id is not None and same_place:
        room = db.session.get(Room, appointment.room_id)
        if room is not None and room.active:
            unit = _free_place(room, start, end, appointment.id, [])
            if unit is not None:
                appointment.room_unit = unit
                return
    place([booking], [appointment.id])
    appointment.location_id, appointment.room_id, appointment.room_unit = (
        booking.location_id, booking.room_id, booking.room_unit)
