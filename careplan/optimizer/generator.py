"""Synthetic clinics for tests and benchmarks, reproducible from a seed.

Shaped like the shared samples: a clinic open Mon-Fri 07:00-21:00 and
Sat 08:00-14:00; providers on 6-9 hour shifts, some split, some holding two
disciplines, some on vacation; their calendars already booked to a chosen
fraction (fuller in the first weeks); radiculopathy care plans from acute /
subacute / maintenance templates scaled by severity, most opening with a
60-minute physiotherapy assessment; 15-minute grid, 10 minutes of
transition, at most 60 minutes of waiting.
"""

from __future__ import annotations

import datetime as dt
import random

DISCIPLINE_MIX = [
    ("physiotherapy",), ("physiotherapy",), ("physiotherapy",), ("physiotherapy",), ("massage",),
    ("massage",), ("massage",), ("nutrition",), ("nutrition",), ("psychotherapy",), ("kinesiology",),
    ("kinesiology",), ("chiropractic",), ("chiropractic",), ("acupuncture",), ("physiotherapy", "kinesiology"),
    ("massage", "kinesiology"), ("chiropractic", "acupuncture"), ("physiotherapy", "acupuncture"),
    ("psychotherapy",), ("massage",), ("physiotherapy",), ("nutrition",), ("kinesiology",), ("chiropractic",),
]
PREFIX = {"physiotherapy": "pt", "massage": "mt", "nutrition": "rd", "psychotherapy": "psy",
          "kinesiology": "kin", "chiropractic": "dc", "acupuncture": "ac"}
NAMES = ["ana", "ben", "chloe", "dev", "eli", "fatima", "gus", "hana", "ivan", "jade", "kofi", "lea", "milo",
         "nora", "omar", "pia", "quentin", "rosa", "samuel", "tara", "umar", "vera", "yann", "yasmine", "zoe"]
OPEN = {0: (7 * 60, 21 * 60), 1: (7 * 60, 21 * 60), 2: (7 * 60, 21 * 60), 3: (7 * 60, 21 * 60),
        4: (7 * 60, 21 * 60), 5: (8 * 60, 14 * 60)}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _stamp(day: dt.date, minutes: int) -> str:
    return f"{day.isoformat()}T{_hm(minutes)}"


def _shifts(rng: random.Random) -> list[dict]:
    windows = []
    for weekday in rng.sample(range(6), rng.randint(4, 5)):
        open_at, close_at = OPEN[weekday]
        length = min(rng.randint(12, 18) * 30, close_at - open_at)
        start = open_at + rng.randrange(0, close_at - open_at - length + 1, 30)
        if rng.random() < 0.2 and length >= 420:
            # A split shift: a morning block and an evening block.
            first = rng.randint(6, 8) * 30
            windows.append({"day": DAYS[weekday], "start": _hm(start), "end": _hm(start + first)})
            windows.append({"day": DAYS[weekday], "start": _hm(close_at - (length - first)), "end": _hm(close_at)})
        else:
            windows.append({"day": DAYS[weekday], "start": _hm(start), "end": _hm(start + length)})
    order = {d: i for i, d in enumerate(DAYS)}
    return sorted(windows, key=lambda w: (order[w["day"]], w["start"]))


def _bookings(rng: random.Random, weekly: list[dict], first: dt.date, weeks: int, fill: float,
              away: set[dt.date]) -> list[dict]:
    booked = []
    for week in range(weeks):
        # Fuller in the first weeks, as a real clinic's calendar is.
        level = min(0.97, fill * (1.25 - 0.5 * week / max(1, weeks - 1)))
        for window in weekly:
            day = first + dt.timedelta(days=7 * week + DAYS.index(window["day"]))
            if day in away:
                continue
            h, m = map(int, window["start"].split(":"))
            cursor = h * 60 + m
            h, m = map(int, window["end"].split(":"))
            end = h * 60 + m
            while cursor < end:
                length = rng.choice((30, 45, 45, 60))
                if cursor + length > end:
                    break
                if rng.random() < level:
                    booked.append({"start": _stamp(day, cursor), "end": _stamp(day, cursor + length)})
                    cursor += length
                else:
                    cursor += 15 * rng.randint(1, 3)
    return booked


def _provider(rng: random.Random, index: int, disciplines: tuple[str, ...], first: dt.date, weeks: int,
              fill: float) -> dict:
    weekly = _shifts(rng)
    time_off = []
    away: set[dt.date] = set()
    if rng.random() < 0.3:
        start = first + dt.timedelta(days=7 * rng.randrange(weeks))
        length = rng.choice((2, 5, 7))
        time_off.append({"start": _stamp(start, 0), "end": _stamp(start + dt.timedelta(days=length), 0)})
        away = {start + dt.timedelta(days=i) for i in range(length)}
    name = NAMES[index % len(NAMES)] + ("" if index < len(NAMES) else str(index // len(NAMES)))
    return {"id": f"{PREFIX[disciplines[0]]}-{name}", "disciplines": list(disciplines), "weekly": weekly,
            "time_off": time_off, "booked": _bookings(rng, weekly, first, weeks, fill, away)}


def _plan(rng: random.Random, weeks_left: int) -> dict:
    severity = rng.choice(("mild", "moderate", "moderate", "severe"))
    acute, subacute, maintenance = {"mild": (2, 2, 2), "moderate": (2, rng.randint(3, 5), rng.choice((2, 4))),
                                    "severe": (3, 6, rng.choice((2, 4)))}[severity]
    nutrition_every = rng.choice((2, 3))
    phases = [
        {"name": "acute", "weeks": acute, "sessions": [
            {"discipline": "physiotherapy", "per_week": 2, "minutes": 45, "min_gap_days": 2},
            {"discipline": rng.choice(("massage", "massage", "acupuncture")), "per_week": 1, "minutes": 60},
            {"discipline": "nutrition", "per_week": 1, "minutes": 45, "every_weeks": nutrition_every},
        ]},
        {"name": "subacute", "weeks": subacute, "sessions": [
            {"discipline": "physiotherapy", "per_week": 1, "minutes": 45},
            {"discipline": "chiropractic", "per_week": 1, "minutes": 30, "min_gap_days": 2},
            {"discipline": "kinesiology", "per_week": 1, "minutes": 45},
        ]},
        {"name": "maintenance", "weeks": maintenance, "sessions": [
            {"discipline": "massage", "per_week": 1, "minutes": 60, "every_weeks": 2},
            {"discipline": "kinesiology", "per_week": 1, "minutes": 45, "every_weeks": 2},
            {"discipline": "nutrition", "per_week": 1, "minutes": 45, "every_weeks": 2},
        ]},
    ]
    if severity != "mild" and rng.random() < 0.3:
        phases[1]["sessions"].append({"discipline": "psychotherapy", "per_week": 1, "minutes": 60,
                                      "every_weeks": 2})
    kept, total = [], 0
    for phase in phases:
        if total + phase["weeks"] > weeks_left:
            if weeks_left - total > 0:
                kept.append(dict(phase, weeks=weeks_left - total))
            break
        kept.append(phase)
        total += phase["weeks"]
    plan = {"phases": kept}
    if rng.random() < 0.85:
        plan["assessment"] = {"discipline": "physiotherapy", "minutes": 60}
    return plan


def _patient(rng: random.Random, index: int, first: dt.date, weeks: int, providers: list[dict]) -> dict:
    earliest = first + dt.timedelta(days=rng.randint(0, 13))
    if rng.random() < 0.6:
        # Works office hours: evenings on weekdays, and Saturday mornings.
        start = rng.choice((16 * 60 + 30, 17 * 60, 17 * 60 + 30, 18 * 60))
        days = sorted(rng.sample(range(5), rng.randint(2, 4)))
        availability = [{"day": DAYS[d], "start": _hm(start),
                         "end": _hm(min(21 * 60, start + rng.choice((150, 180, 210))))} for d in days]
        if rng.random() < 0.7:
            availability.append({"day": "sat", "start": "08:00", "end": _hm(rng.choice((12, 13, 14)) * 60)})
    else:
        start = rng.choice((8 * 60, 9 * 60, 10 * 60, 12 * 60))
        days = sorted(rng.sample(range(5), rng.randint(2, 4)))
        availability = [{"day": DAYS[d], "start": _hm(start), "end": _hm(start + rng.choice((240, 300, 330)))}
                        for d in days]
    booked = []
    for _ in range(rng.randint(0, 3)):
        window = rng.choice(availability)
        day = first + dt.timedelta(days=7 * rng.randrange(weeks) + DAYS.index(window["day"]))
        h, m = map(int, window["start"].split(":"))
        at = h * 60 + m + 15 * rng.randint(0, 4)
        booked.append({"start": _stamp(day, at), "end": _stamp(day, at + rng.choice((60, 90, 120)))})
    weeks_left = weeks - (earliest - first).days // 7
    patient = {"id": f"p-{index + 1:03d}", "earliest_start": earliest.isoformat(), "availability": availability,
               "booked": booked, "max_sessions_per_day": rng.choice((2, 3, 3)), "preferred_providers": {},
               "plan": _plan(rng, weeks_left)}
    if rng.random() < 0.25:
        physios = [p["id"] for p in providers if "physiotherapy" in p["disciplines"]]
        patient["preferred_providers"]["physiotherapy"] = rng.choice(physios)
    return patient


def generate(seed: int, *, providers: int = 25, patients: int = 1, weeks: int = 12, booked: float = 0.7,
             start: str = "2027-01-04") -> dict:
    """A problem document: `providers` clinicians about `booked` full, `patients` new plans."""
    rng = random.Random(seed)
    first = dt.date.fromisoformat(start)
    mix = DISCIPLINE_MIX * (providers // len(DISCIPLINE_MIX) + 1)
    staff = [_provider(rng, i, mix[i], first, weeks, booked) for i in range(providers)]
    return {
        "version": 1,
        "clinic": {"timezone": "America/Toronto", "slot_minutes": 15, "horizon": {"start": start, "weeks": weeks}},
        "rules": {"transition_minutes": 10, "max_wait_minutes": 60},
        "providers": staff,
        "patients": [_patient(rng, i, first, weeks, staff) for i in range(patients)],
    }


# The rooms and locations extension: which disciplines hold which kind of room.
ROOM_KINDS = {"physiotherapy": "table", "massage": "table", "chiropractic": "table", "acupuncture": "table",
              "kinesiology": "gym"}
VIDEO_DISCIPLINES = ("psychotherapy", "nutrition")


def with_resources(problem: dict, *, seed: int, locations: int = 1, tables: int = 2, gym: int = 2,
                   virtual: bool = True) -> dict:
    """A copy of a generated clinic with locations, rooms and (optionally) virtual sessions.

    Every provider works each weekday at one location (drawn per weekday when there are two); each
    location has `tables` treatment tables (capacity 1), held by physiotherapy (and its assessment),
    massage, chiropractic and acupuncture, and one gym for `gym` at once, held by kinesiology. The
    providers' existing bookings hold a table or the gym where one is free, so the rooms are as full
    as their calendars. With `virtual`, psychotherapy and nutrition may be held by video and half the
    patients accept it. With two locations, a fifth of the patients accept only one of them.
    """
    import copy

    rng = random.Random(seed * 7919 + locations)
    doc = copy.deepcopy(problem)
    names = ["main"] if locations == 1 else ["east", "west"][:locations]
    doc["clinic"]["locations"] = [{"id": n, "name": n.title()} for n in names]
    rooms = []
    for n in names:
        rooms += [{"id": f"{n}-table-{i + 1}", "location": n, "kind": "table", "capacity": 1, "booked": []}
                  for i in range(tables)]
        rooms.append({"id": f"{n}-gym", "location": n, "kind": "gym", "capacity": gym, "booked": []})
    for provider in doc["providers"]:
        where = {day: rng.choice(names) for day in DAYS}
        for window in provider["weekly"]:
            window["location"] = where[window["day"]]
        kind = next((ROOM_KINDS[d] for d in provider["disciplines"] if d in ROOM_KINDS), None)
        if kind is None:
            continue
        for interval in provider["booked"]:
            day = dt.date.fromisoformat(interval["start"][:10])
            place = where[DAYS[day.weekday()]]
            for room in rooms:
                if room["location"] != place or room["kind"] != kind:
                    continue
                load = sum(1 for b in room["booked"] if b["start"] < interval["end"] and interval["start"] < b["end"])
                if load < room["capacity"]:
                    room["booked"].append(dict(interval))
                    break
    doc["rooms"] = rooms
    for patient in doc["patients"]:
        if len(names) > 1 and rng.random() < 0.2:
            patient["locations"] = [rng.choice(names)]
        if virtual:
            patient["accepts_virtual"] = rng.random() < 0.5
        plan = patient["plan"]
        if plan.get("assessment") and plan["assessment"]["discipline"] in ROOM_KINDS:
            plan["assessment"]["room_kind"] = ROOM_KINDS[plan["assessment"]["discipline"]]
        for phase in plan["phases"]:
            for line in phase["sessions"]:
                if line["discipline"] in ROOM_KINDS:
                    line["room_kind"] = ROOM_KINDS[line["discipline"]]
                elif virtual and line["discipline"] in VIDEO_DISCIPLINES:
                    line["mode"] = "either"
    return doc
