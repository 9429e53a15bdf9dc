"""Where an in-person appointment is held and which room it holds; video appointments hold neither.

A room of capacity N has N places; an appointment of a discipline with a room kind takes one place of one
room of that kind, at the location where its provider works at that time, for its whole length. The
database refuses two non-cancelled appointments on the same (room, place) at overlapping times
(ROOM_GUARD: an exclusion constraint on PostgreSQL, triggers on SQLite, migration 6d0cd389d631), so
no number of concurrent bookings can put more sessions in a room than its capacity.

Places are allocated so that any set of bookings that stays within the room's capacity at every instant
gets one (what the optimizer assumes): a booking takes a place free over its whole length; when none is
(the places are fragmented: place 1 taken before, place 2 after, yet never two at once), the room's
appointments chained to it by overlaps are given places anew in order of start (interval colouring, which
never needs more places than the most sessions at one instant), keeping each one's place where it can and
never changing one that has begun. The rooms of a booking are locked (SELECT ... FOR UPDATE on PostgreSQL;
SQLite serialises writers with BEGIN IMMEDIATE) before their places are read, so concurrent bookings of a
room see each other instead of racing for the same place and both losing it; the guard stays the backstop.

An in-person booking also keeps to the patient's sites, as the optimizer does: a location the patient
accepts (none listed: any) and one location a day (their other in-person appointments of that day).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from careplan.clinic import service as clinic
from careplan.clinic.models import Discipline
from careplan.db import utcnow
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


def lock_rooms(room_ids) -> None:
    """Lock these rooms' rows until the commit, in id order (two bookings never deadlock on them); every
    writer of a room's places (booking, move, a change of its capacity) takes the lock first."""
    ids = sorted({rid for rid in room_ids if rid is not None})
    if ids:
        list(db.session.scalars(select(Room.id).where(Room.id.in_(ids)).order_by(Room.id).with_for_update()))


# --- places: interval colouring ----------------------------------------------------------------------

@dataclass
class _Holding:
    start: datetime
    end: datetime
    unit: int | None
    # Begun before now: it keeps its place (nobody changes tables mid-session).
    fixed: bool
    row: Appointment | None = None
    booking: object = None


def _holdings(room_id: int, start: datetime, end: datetime, exclude_ids) -> list[Appointment]:
    query = select(Appointment).where(
        Appointment.room_id == room_id, Appointment.status != "cancelled", overlapping(Appointment, start, end))
    ids = [i for i in exclude_ids if i is not None]
    if ids:
        query = query.where(Appointment.id.not_in(ids))
    return list(db.session.scalars(query))


def _chain(room: Room, booking, exclude_ids, earlier: list, now: datetime) -> list[_Holding]:
    """The booking and every holding of the room linked to it by a chain of overlaps: the only ones whose
    places can bear on its own."""
    start, end = booking.start, booking.end
    rows: dict[int, Appointment] = {}
    mine = [b for b in earlier if b.room_id == room.id]
    while True:
        rows.update((row.id, row) for row in _holdings(room.id, start, end, exclude_ids))
        starts = [row.starts_at for row in rows.values()] + [b.start for b in mine if b.start < end and start < b.end]
        ends = [row.ends_at for row in rows.values()] + [b.end for b in mine if b.start < end and start < b.end]
        wider = min([start, *starts]), max([end, *ends])
        if wider == (start, end):
            break
        start, end = wider
    chain = [_Holding(row.starts_at, row.ends_at, row.room_unit, row.starts_at < now, row=row)
             for row in rows.values()]
    chain += [_Holding(b.start, b.end, b.room_unit, False, booking=b) for b in mine if b.start < end and start < b.end]
    chain.append(_Holding(booking.start, booking.end, None, False, booking=booking))
    return chain


def _colour(chain: list[_Holding], capacity: int) -> bool:
    """Give each non-fixed holding a place (its own where free), in order of start: whatever has started by
    then and not ended holds that instant, so a place is free whenever the room is within its capacity
    there. False when it is not."""
    done: list[_Holding] = []
    # Among equal starts, those that can keep their place go first (the booking being placed, or a place
    # beyond the capacity, last): as few appointments change places as the order allows.
    for holding in sorted(chain, key=lambda h: (h.start, h.unit is None or h.unit > capacity, h.end)):
        used = {other.unit for other in done if other.end > holding.start}
        if not holding.fixed:
            if holding.unit is None or holding.unit in used or holding.unit > capacity:
                holding.unit = next((u for u in range(1, capacity + 1) if u not in used), None)
            if holding.unit is None:
                return False
        done.append(holding)
    return True


def _write(moved: list[_Holding], leaving: list[Appointment] = ()) -> None:
    """Write the new places in two steps, so that no row ever meets another on its new place before that one
    has left it (the guard checks each row as it is written; a place of None holds nothing). `leaving`:
    appointments that let go of their place here (moved away; their new one is written with them)."""
    for h in moved:
        h.row.room_unit = None
    for row in leaving:
        row.room_unit = None
    db.session.flush()
    for h in moved:
        h.row.room_unit = h.unit
    db.session.flush()


def repack(room: Room, capacity: int, now: datetime) -> None:
    """Before the room's capacity drops to `capacity`: give its coming appointments places within it (those
    under way keep theirs), or raise Conflict naming the capacity when more than that hold it at one moment."""
    rows = list(db.session.scalars(select(Appointment).where(
        Appointment.room_id == room.id, Appointment.status != "cancelled", Appointment.ends_at > now)
        .order_by(Appointment.starts_at, Appointment.id)))
    holdings = [_Holding(row.starts_at, row.ends_at, row.room_unit, row.starts_at < now, row=row) for row in rows]
    before = {id(h): h.unit for h in holdings}
    busiest = max((sum(1 for o in holdings if o.start <= h.start < o.end) for h in holdings), default=0)
    if busiest > capacity:
        moment = next(h.start for h in holdings if sum(1 for o in holdings if o.start <= h.start < o.end) == busiest)
        raise Conflict("Coming appointments hold more places of this room at once.", fields={
            "capacity": f"{busiest} coming appointments hold it at once "
                        f"({clinic.to_local(moment):%Y-%m-%d %H:%M}); move them first"})
    under_way = [h for h in holdings if h.fixed and h.unit > capacity]
    if under_way:
        raise Conflict("A session under way holds a place beyond that capacity.", fields={
            "capacity": f"appointment {under_way[0].row.id}, under way, holds place {under_way[0].unit}; "
                        f"change it once it ends"})
    if not _colour(holdings, capacity):  # never: at most `capacity` at every start, as counted above
        raise Conflict("Coming appointments hold more places of this room at once.",
                       fields={"capacity": "coming appointments hold more places at once; move them first"})
    _write([h for h in holdings if h.unit != before[id(h)]])


def _take(room: Room, booking, exclude_ids, earlier: list, now: datetime, taken: dict) -> bool:
    """Give the booking a place of the room, re-placing its neighbours if fragmentation asks for it; False
    when the room is full at some instant of the booking. `taken`: the places held in the rooms over the
    bookings' times, read once for them all (appointment id -> [room id, place, start, end]), kept up to date."""
    busy = {unit for room_id, unit, start, end in taken.values()
            if room_id == room.id and start < booking.end and booking.start < end}
    busy |= {b.room_unit for b in earlier if b.room_id == room.id and b.start < booking.end and booking.start < b.end}
    unit = next((u for u in range(1, room.capacity + 1) if u not in busy), None)
    if unit is None:
        # Fragmented (or full): the rare case reads the room's chain of overlapping appointments.
        chain = _chain(room, booking, exclude_ids, earlier, now)
        before = {id(h): h.unit for h in chain}
        if not _colour(chain, room.capacity):
            return False
        moving = [db.session.get(Appointment, i) for i in exclude_ids if i is not None]
        moved = [h for h in chain if h.row is not None and h.unit != before[id(h)]]
        _write(moved, [row for row in moving if row is not None and row.room_id == room.id])
        for h in moved:
            if h.row.id in taken:
                taken[h.row.id][1] = h.unit
        for h in chain:
            if h.booking is not None and h.booking is not booking:
                h.booking.room_unit = h.unit
        unit = chain[-1].unit
    booking.room_id, booking.room_unit = room.id, unit
    booking.location_id = room.location_id
    return True


# --- the patient's sites -------------------------------------------------------------------------------

def _names(ids) -> str:
    rows = db.session.scalars(select(Location).where(Location.id.in_(list(ids))).order_by(Location.id))
    return ", ".join(row.name for row in rows)


def _day_sites(bookings, exclude_ids) -> list[tuple[int, int, int, datetime]]:
    """The in-person appointments (id, patient, location, start) of these bookings' patients on the bookings'
    days, read once for all of them; those the bookings move left out."""
    days = {clinic.to_local(b.start).date() for b in bookings}
    patients = {b.patient_id for b in bookings}
    if not days:
        return []
    query = select(Appointment.id, Appointment.patient_id, Appointment.location_id, Appointment.starts_at).where(
        Appointment.patient_id.in_(patients), Appointment.status != "cancelled",
        Appointment.virtual.is_(False), Appointment.location_id.is_not(None),
        or_(*(overlapping(Appointment, *clinic.local_day_bounds(day)) for day in sorted(days)))
    ).order_by(Appointment.starts_at, Appointment.id)
    ids = [i for i in exclude_ids if i is not None]
    if ids:
        query = query.where(Appointment.id.not_in(ids))
    return [tuple(row) for row in db.session.execute(query)]


def _sites(booking, patient, day_rows, earlier: list) -> tuple[set[int] | None, int | None, str]:
    """Where this in-person booking may be held for its patient: the locations they accept (None: any), the
    location they already come to that day (None: none yet) and what holds them there."""
    accepted = set(patient.location_ids) if patient is not None and patient.location_ids else None
    day_start, day_end = clinic.local_day_bounds(clinic.to_local(booking.start).date())
    for other in earlier:
        if other.patient_id == booking.patient_id and other.location_id is not None and not other.virtual \
                and day_start <= other.start < day_end:
            return accepted, other.location_id, f"{other.field.rstrip('.') or 'another booking'}"
    for id_, patient_id, location_id, starts_at in day_rows:
        if patient_id == booking.patient_id and day_start <= starts_at < day_end:
            return accepted, location_id, f"appointment {id_} at {clinic.to_local(starts_at):%H:%M}"
    return accepted, None, ""


def _site_fits(location_id: int, accepted, day_site) -> bool:
    return (accepted is None or location_id in accepted) and (day_site is None or location_id == day_site)


def _site_refusal(booking, location_id: int, accepted, day_site, why) -> Invalid | None:
    """Why the patient cannot be seen at this location (the names read only then), or None."""
    f = booking.field
    if accepted is not None and location_id not in accepted:
        return Invalid("The patient does not come to this location.", fields={
            f"{f}location_id": f"patient {booking.patient_id} comes only to {_names(accepted)}, "
                               f"not {_names([location_id])}"})
    if day_site is not None and location_id != day_site:
        return Invalid("The patient is at another location that day.", fields={
            f"{f}location_id": f"patient {booking.patient_id} comes to {_names([day_site])} that day ({why}); "
                               f"one location a day, not {_names([location_id])}"})
    return None


# --- placing bookings ------------------------------------------------------------------------------------

def place(bookings: list, exclude_ids: list[int | None] | None = None, *, now: datetime | None = None,
          prefer: Room | None = None) -> None:
    """Fill in each booking's location_id, room_id and room_unit (scheduling.service.Booking), or raise:
    Invalid (422) for a room, location or video session that does not fit the rules (a site the patient does
    not accept, a second location that day), Conflict (409) when every room of the kind there is full then.
    `exclude_ids`: appointments these bookings move (their present places are theirs to take); `prefer`: the
    room to try first (a moved appointment's own). A fixed number of statements for any number of bookings
    (issue 19): the rules first for all of them, then one read each of the patients' days and of the places
    taken in every candidate room; only a fragmented room reads more."""
    exclude_ids = exclude_ids or [None] * len(bookings)
    excluded = [i for i in exclude_ids if i is not None]
    now = now or utcnow()
    kinds = dict(db.session.execute(select(Discipline.code, Discipline.room_kind)).all())
    needed = {kinds.get(b.discipline) for b in bookings if not b.virtual} - {None}
    named = [b.room_id for b in bookings if b.room_id is not None]
    open_rooms: list[Room] = []
    if needed or named:
        # Every room locked, in id order, before its places are read (see lock_rooms): concurrent bookings
        # queue here; every room, not only these kinds', so that a re-plan placing several kinds one call
        # after another cannot deadlock with a booking doing it the other way round. Held in this list,
        # not only in the session's (weak) identity map, so each booking's `get` finds them.
        open_rooms = [r for r in db.session.scalars(select(Room).order_by(Room.id).with_for_update()) if r.active]
    in_person = [b for b in bookings if not b.virtual]
    providers = {p.id: p for p in db.session.scalars(
        select(Provider).where(Provider.id.in_({b.provider_id for b in in_person}))
        .options(selectinload(Provider.availability)))} if in_person else {}
    patients = {p.id: p for p in db.session.scalars(
        select(Patient).where(Patient.id.in_({b.patient_id for b in bookings})).options(selectinload(Patient.locations)))}
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
            candidates = []
        else:
            candidates = [r for r in open_rooms if r.kind == kind
                          and (booking.location_id is None or r.location_id == booking.location_id)]
            if not candidates:
                where = f" at location {booking.location_id}" if booking.location_id is not None else ""
                raise Invalid(f"No {kind} room{where}.",
                              fields={f"{f}room_id": f"{booking.discipline} holds a {kind} room and there is "
                                                     f"none{where}"})
            if prefer is not None and prefer in candidates:
                candidates = [prefer] + [r for r in candidates if r is not prefer]
        wanting.append((booking, candidates, kind))
    if not wanting:
        return
    day_rows = _day_sites([b for b, _, _ in wanting], exclude_ids)
    rooms_read = {room.id for _, candidates, _ in wanting for room in candidates}
    taken: dict[int, list] = {}
    if rooms_read:
        query = select(Appointment.id, Appointment.room_id, Appointment.room_unit, Appointment.starts_at,
                       Appointment.ends_at).where(
            Appointment.room_id.in_(rooms_read), Appointment.status != "cancelled",
            or_(*(overlapping(Appointment, b.start, b.end) for b, candidates, _ in wanting if candidates)))
        if excluded:
            query = query.where(Appointment.id.not_in(excluded))
        taken = {id_: [room_id, unit, start, end] for id_, room_id, unit, start, end in db.session.execute(query)}
    done: list = []
    for booking, candidates, kind in wanting:
        f = booking.field
        accepted, day_site, why = _sites(booking, patients.get(booking.patient_id), day_rows, done)
        if booking.location_id is not None:
            if (refusal := _site_refusal(booking, booking.location_id, accepted, day_site, why)) is not None:
                raise refusal
        elif candidates:
            # No site follows from the provider's hours: the patient's sites choose among the rooms.
            fitting = [r for r in candidates if _site_fits(r.location_id, accepted, day_site)]
            if not fitting:
                raise _site_refusal(booking, candidates[0].location_id, accepted, day_site, why)
            candidates = fitting
        if candidates and not any(_take(room, booking, excluded, done, now, taken) for room in candidates):
            raise Conflict("That time is no longer free.",
                           fields={f"{f}room_id": f"every {kind or candidates[0].kind} room there is taken then"},
                           extra={"conflicting_appointment_ids": [], "conflicting_proposal_ids": []})
        done.append(booking)


def replace(appointment: Appointment, provider_id: int, start: datetime, end: datetime,
            now: datetime | None = None) -> None:
    """A moved appointment's place: the same room when it has a place at the new time (and the provider
    works at its location then), else another of its kind where the provider then works (a Conflict when
    there is none); video sessions stay without one. The patient's sites hold as for a booking."""
    if appointment.virtual:
        return
    booking = _Spot(appointment.patient_id, provider_id, appointment.discipline_code, start, end)
    provider = db.session.get(Provider, provider_id)
    prefer = None
    if appointment.room_id is not None and \
            location_at(provider, start, end) in (None, appointment.location_id):
        room = db.session.get(Room, appointment.room_id)
        if room is not None and room.active:
            prefer = room
    place([booking], [appointment.id], now=now, prefer=prefer)
    appointment.location_id, appointment.room_id, appointment.room_unit = (
        booking.location_id, booking.room_id, booking.room_unit)
