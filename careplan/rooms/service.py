"""Locations and rooms: the admin's records (the rules of holding a room are in careplan.scheduling.rooms)."""
from __future__ import annotations

from sqlalchemy import func, select

from careplan.audit.service import record
from careplan.caller import Caller
from careplan.clinic.models import Discipline
from careplan.db import utcnow
from careplan.errors import Conflict, Invalid
from careplan.extensions import db
from careplan.records import get_or_404
from careplan.rooms.models import Location, Room
from careplan.scheduling.rooms import lock_rooms, places_in_use, repack


def list_locations(include_inactive: bool = True) -> list[Location]:
    query = select(Location).order_by(Location.id)
    if not include_inactive:
        query = query.where(Location.active.is_(True))
    return list(db.session.scalars(query))


def has_locations() -> bool:
    """Whether the clinic runs several sites (or names its one): windows and bookings then carry a location."""
    return db.session.scalar(select(func.count(Location.id)).where(Location.active.is_(True))) > 0


def get_location(location_id: int) -> Location:
    return get_or_404(Location, location_id, f"No location {location_id}.")


def _name_free(model, name: str, exclude_id: int | None, **scope) -> None:
    query = select(model.id).where(func.lower(model.name) == name.lower())
    for key, value in scope.items():
        query = query.where(getattr(model, key) == value)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise Conflict("That name is taken.", fields={"name": "already used"})


def create_location(data: dict, *, caller: Caller) -> Location:
    _name_free(Location, data["name"], None)
    row = Location(**data)
    db.session.add(row)
    db.session.flush()
    record("create", "location", row.id, detail=row.name, caller=caller)
    db.session.commit()
    return row


def update_location(location_id: int, changes: dict, *, caller: Caller) -> Location:
    row = get_location(location_id)
    if "name" in changes:
        _name_free(Location, changes["name"], row.id)
    for key, value in changes.items():
        setattr(row, key, value)
    record("update", "location", row.id, detail=", ".join(sorted(changes)), caller=caller)
    db.session.commit()
    return row


def list_rooms(location_id: int | None = None, kind: str | None = None) -> list[Room]:
    query = select(Room).order_by(Room.location_id, Room.name)
    if location_id is not None:
        query = query.where(Room.location_id == location_id)
    if kind is not None:
        query = query.where(Room.kind == kind)
    return list(db.session.scalars(query))


def get_room(room_id: int) -> Room:
    return get_or_404(Room, room_id, f"No room {room_id}.")


def _check_location(location_id: int) -> Location:
    location = db.session.get(Location, location_id)
    if location is None:
        raise Invalid("Unknown location.", fields={"location_id": f"no location {location_id}"})
    return location


def _kind_of(data: dict, current: str | None, caller: Caller) -> dict:
    """`data` with the room's kind, from `disciplines` when given (the service contract's way of saying it): the
    kind those disciplines hold (it must be one), or `kind`, or the room's; a discipline that holds no room
    yet comes to hold this kind. Answers the data without `disciplines`."""
    data = dict(data)
    codes = data.pop("disciplines", None)
    if codes is None:
        return data
    found = {d.code: d for d in db.session.scalars(select(Discipline).where(Discipline.code.in_(codes)))}
    unknown = {f"disciplines[{i}]": f"no discipline {code}" for i, code in enumerate(codes) if code not in found}
    if unknown:
        raise Invalid("Unknown discipline.", fields=unknown)
    held = {found[code].room_kind for code in codes} - {None}
    kind = data.get("kind") or next(iter(held), None) or current
    if len(held) > 1 or (held and kind not in held):
        named = ", ".join(f"{code}: {found[code].room_kind}" for code in codes if found[code].room_kind)
        raise Invalid("These disciplines hold different kinds of room.",
                      fields={"disciplines": f"they hold different kinds of room ({named}); a room is of one kind"})
    if kind is None:
        # None holds a room yet: the room's kind is named after them, and they come to hold it.
        kind = "-".join(sorted(code.replace("_", "-") for code in codes))[:40].strip("-")
    for code in codes:
        if found[code].room_kind is None:
            found[code].room_kind = kind
            record("update", "discipline", code, detail=f"holds a {kind} room", caller=caller)
    data["kind"] = kind
    return data


def create_room(data: dict, *, caller: Caller) -> Room:
    _check_location(data["location_id"])
    _name_free(Room, data["name"], None, location_id=data["location_id"])
    data = _kind_of(data, None, caller)
    row = Room(**data)
    db.session.add(row)
    db.session.flush()
    record("create", "room", row.id, detail=f"{row.name} ({row.kind}, {row.capacity})", caller=caller)
    db.session.commit()
    return row


def update_room(room_id: int, changes: dict, *, caller: Caller) -> Room:
    row = get_room(room_id)
    # A booking placing a session in it waits, and this sees its places as they are (or it sees ours).
    lock_rooms([row.id])
    location_id = changes.get("location_id", row.location_id)
    if "location_id" in changes:
        _check_location(location_id)
    if "name" in changes or "location_id" in changes:
        _name_free(Room, changes.get("name", row.name), row.id, location_id=location_id)
    if "capacity" in changes and changes["capacity"] < row.capacity:
        # Fewer places: the coming appointments are given places within them when they never need more
        # at once (careplan.scheduling.rooms), else it is refused naming the busiest moment.
        repack(row, changes["capacity"], utcnow())
    if location_id != row.location_id and places_in_use(row.id, utcnow()):
        raise Conflict("Coming appointments hold this room.",
                       fields={"location_id": "coming appointments hold this room here; move them first"})
    changes = _kind_of(changes, row.kind, caller)
    for key, value in changes.items():
        setattr(row, key, value)
    record("update", "room", row.id, detail=", ".join(sorted(changes)), caller=caller)
    db.session.commit()
    return row


def room_kinds() -> dict[str, list[str]]:
    """Each room kind the disciplines need, with those disciplines."""
    kinds: dict[str, list[str]] = {}
    for code, kind in db.session.execute(select(Discipline.code, Discipline.room_kind).where(
            Discipline.room_kind.is_not(None), Discipline.active.is_(True)).order_by(Discipline.code)):
        kinds.setdefault(kind, []).append(code)
    return kinds
