"""Rooms, locations and virtual sessions (the contract's optional extensions).

The options already carry where a session is held (`Option.location`,
`Option.room`, `Option.virtual`, see `demand.py`); this module states the
rules that depend on several appointments at once, for the CP-SAT model,
the first-available ledger and the batch driver alike:

* a room is never held by more appointments at once than its capacity,
  counting its `booked` intervals and the appointments of patients outside
  the model (`occupied[room_key(r)]`);
* a patient's in-person appointments of one day are at one location;
* a virtual appointment is not a trip: a day with only virtual sessions is
  no visit, and the waiting limit and idle time only bind in-person ones.

A problem without the extensions has options with no location, room or
video, and none of these rules adds anything to its model.
"""

from __future__ import annotations

from .sat import total


def room_key(room: int) -> tuple[str, int]:
    """The key of a room's held intervals in a model's `occupied` map (providers are keyed by index)."""
    return ("room", room)


def occupy(occupied: dict, booking) -> None:
    """Add a booking's room, if it holds one, to an `occupied` map (lists of (start, end))."""
    if booking.room >= 0:
        occupied.setdefault(room_key(booking.room), []).append((booking.start, booking.end))


def room_booked(space, room: int) -> list[tuple[int, int]]:
    """The room's `booked` intervals (held by appointments outside the problem), in real minutes."""
    clock = space.clock
    return [(clock.minute(i.start), clock.minute(i.end)) for i in space.problem.rooms[room].booked]


def peak(intervals: list[tuple[int, int]], start: int, end: int) -> int:
    """The most intervals overlapping at any one moment of [start, end)."""
    events = []
    for low, high in intervals:
        low, high = max(low, start), min(high, end)
        if low < high:
            events.append((low, 1))
            events.append((high, -1))
    load = best = 0
    for _, step in sorted(events):
        load += step
        best = max(best, load)
    return best


def state_rooms(model) -> None:
    """At every moment an option could start (or an outside holding begins), the options of a room
    covering it, plus its outside holdings then, stay within its capacity. For intervals the peak of
    a set is reached at one of their starts, so these constraints are exact."""
    space = model.space
    if not space.problem.rooms:
        return
    m = model.model
    by_room: dict[int, list[tuple[int, int, object]]] = {}
    for (_, option), var in model.x.items():
        if option.room >= 0:
            by_room.setdefault(option.room, []).append((option.start, option.end, var))
    for room, items in by_room.items():
        capacity = space.problem.rooms[room].capacity
        outside = room_booked(space, room) + list(model.occupied.get(room_key(room), []))
        low = min(start for start, _, _ in items)
        high = max(end for _, end, _ in items)
        outside = [(s, e) for s, e in outside if s < high and low < e]
        points = sorted({start for start, _, _ in items} | {s for s, _ in outside if low <= s < high})
        items.sort(key=lambda item: item[0])
        active: list[tuple[int, object]] = []
        i = 0
        previous = None
        for t in points:
            active = [(end, var) for end, var in active if end > t]
            while i < len(items) and items[i][0] <= t:
                if items[i][1] > t:
                    active.append((items[i][1], items[i][2]))
                i += 1
            if not active:
                continue
            held = sum(1 for s, e in outside if s <= t < e)
            room_left = max(0, capacity - held)
            covering = [var for _, var in active]
            if len(covering) <= room_left:
                continue
            key = (frozenset(id(v) for v in covering), room_left)
            if key == previous:
                continue
            previous = key
            if room_left == 1:
                m.add_at_most_one(covering)
            else:
                m.add(total(covering) <= room_left)


def state_locations(model) -> None:
    """One location a day per patient for in-person appointments (one trip)."""
    m = model.model
    if not model.space.problem.locations:
        return
    for items in model.by_day.values():
        places: dict[int, list] = {}
        for _, option, var in items:
            if not option.virtual and option.location >= 0:
                places.setdefault(option.location, []).append(var)
        if len(places) < 2:
            continue
        flags = []
        for variables in places.values():
            flag = m.new_bool_var()
            for var in variables:
                m.add_implication(var, flag)
            flags.append(flag)
        m.add_at_most_one(flags)


def virtual_day(m, variables: list, trips: list, cap: int, visit):
    """A patient's day that may hold virtual sessions: `visit` (a trip) is exactly "some in-person
    session", and the returned flag exactly "some session"; the daily cap counts them all."""
    attend = m.new_bool_var()
    m.add(total(variables) <= cap * attend)
    m.add_bool_or(variables + [attend.Not()])
    for var in trips:
        m.add_implication(var, visit)
    m.add_bool_or(trips + [visit.Not()])
    m.add_implication(visit, attend)
    return attend


def room_clash(space, occupied: dict, bookings: list) -> bool:
    """Whether these bookings (valid among themselves) overfill a room together with `occupied`."""
    if not space.problem.rooms:
        return False
    mine: dict[int, list[tuple[int, int]]] = {}
    for b in bookings:
        if b.room >= 0:
            mine.setdefault(b.room, []).append((b.start, b.end))
    for room, spans in mine.items():
        everything = spans + room_booked(space, room) + list(occupied.get(room_key(room), []))
        capacity = space.problem.rooms[room].capacity
        if any(peak(everything, start, end) > capacity for start, end in spans):
            return True
    return False


def room_full(space, held: list[tuple[int, int]], room: int, start: int, end: int) -> bool:
    """Whether one more appointment in the room over [start, end) would exceed its capacity."""
    return peak(held + room_booked(space, room), start, end) >= space.problem.rooms[room].capacity


def other_location(day_bookings: list, option) -> bool:
    """Whether an in-person option is at another location than the patient's in-person ones that day."""
    if option.virtual or option.location < 0:
        return False
    return any(not b.virtual and b.location >= 0 and b.location != option.location for b in day_bookings)
