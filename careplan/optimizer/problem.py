"""Reading and validating a problem document (format v1 of the contract).

`parse` turns the JSON document into plain dataclasses and refuses anything
the contract does not allow, naming the offending field by its path
(`patients[3].plan.phases[0].sessions[1].per_week: must be >= 1`), so the
command line can exit 2 with a message the front desk's integrator can fix.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^(\d{2}):(\d{2})$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})$")


class ProblemError(ValueError):
    """An invalid problem document; `path` names the offending field."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Window:
    """A weekly window: weekday 0 = Monday, minutes after local midnight."""

    weekday: int
    start: int
    end: int
    # The locations extension: the index of the clinic location a provider's window is at (None without locations).
    location: int | None = None


@dataclass(frozen=True)
class Dated:
    """A dated interval in the clinic's local wall time."""

    start: dt.datetime
    end: dt.datetime


@dataclass
class Provider:
    index: int
    id: str
    disciplines: frozenset[str]
    weekly: list[Window]
    time_off: list[Dated]
    booked: list[Dated]


@dataclass(frozen=True)
class SessionLine:
    discipline: str
    per_week: int
    minutes: int
    every_weeks: int
    min_gap_days: int
    # The rooms and virtual-sessions extensions (absent: no room, in person).
    room_kind: str | None = None
    mode: str = "in_person"


@dataclass(frozen=True)
class Phase:
    name: str
    weeks: int
    sessions: tuple[SessionLine, ...]


@dataclass(frozen=True)
class Assessment:
    discipline: str
    minutes: int
    room_kind: str | None = None
    mode: str = "in_person"


@dataclass(frozen=True)
class Current:
    """An appointment already booked for this plan (the re-planning extension).

    `fixed` ones must stay exactly as they are; the others are hints the
    solver may move, at a cost ranked right after unmet demand.
    """

    path: str
    provider: str
    discipline: str
    kind: str
    phase: str | None
    week: int | None
    start: dt.datetime
    fixed: bool
    # The extensions: how and where it is held (None: any that fits).
    mode: str | None = None
    location: str | None = None
    room: str | None = None


@dataclass
class Patient:
    index: int
    id: str
    earliest_start: dt.date
    availability: list[Window]
    booked: list[Dated]
    max_sessions_per_day: int | None
    preferred_providers: dict[str, str]
    assessment: Assessment | None
    phases: list[Phase]
    current: list[Current] = field(default_factory=list)
    # The "required clinicians" extension: {discipline: provider id}, the only provider who may deliver it.
    required_providers: dict[str, str] = field(default_factory=dict)
    # The locations and virtual-sessions extensions: location indexes accepted (None: all), video accepted.
    locations: frozenset[int] | None = None
    accepts_virtual: bool = False


@dataclass(frozen=True)
class Location:
    index: int
    id: str
    name: str


@dataclass
class Room:
    index: int
    id: str
    location: int
    kind: str
    capacity: int
    booked: list[Dated]
    time_off: list[Dated]


@dataclass
class Problem:
    timezone: str
    slot_minutes: int
    horizon_start: dt.date
    weeks: int
    transition_minutes: int
    max_wait_minutes: int | None
    providers: list[Provider]
    patients: list[Patient]
    locations: list[Location] = field(default_factory=list)
    rooms: list[Room] = field(default_factory=list)
    # True when the document uses any of the locations, rooms or virtual-sessions fields: the solution
    # then carries each appointment's mode, location and room.
    extended: bool = False

    def provider(self, provider_id: str) -> Provider:
        return self._providers_by_id[provider_id]

    def __post_init__(self) -> None:
        self._providers_by_id = {p.id: p for p in self.providers}


# Every field this solver knows, per kind of object. The contract asks a solver to refuse a problem with a
# field it does not know (an extension such as locations or rooms) rather than ignore a rule it carries.
_FIELDS = {
    "document": {"version", "clinic", "rules", "providers", "patients", "rooms"},
    "clinic": {"timezone", "slot_minutes", "horizon", "locations"},
    "location": {"id", "name"},
    "room": {"id", "location", "kind", "capacity", "booked", "time_off"},
    "horizon": {"start", "weeks"},
    "rules": {"transition_minutes", "max_wait_minutes"},
    "provider": {"id", "disciplines", "weekly", "time_off", "booked"},
    "patient": {"id", "earliest_start", "availability", "booked", "max_sessions_per_day", "preferred_providers",
                "required_providers", "plan", "appointments", "locations", "accepts_virtual"},
    "plan": {"assessment", "phases"},
    "assessment": {"discipline", "minutes", "room_kind", "mode"},
    "phase": {"name", "weeks", "sessions"},
    "session": {"discipline", "per_week", "minutes", "every_weeks", "min_gap_days", "room_kind", "mode"},
    "window": {"day", "start", "end"},
    "provider_window": {"day", "start", "end", "location"},
    "dated": {"start", "end"},
    "appointment": {"provider", "discipline", "kind", "phase", "week", "start", "fixed", "mode", "location", "room"},
}


def _known(doc: dict, kind: str, path: str) -> dict:
    """The object, once every field in it is one this solver knows (first unknown one, sorted, named)."""
    unknown = sorted(str(key) for key in doc if key not in _FIELDS[kind])
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise ProblemError(where, "unknown field: this solver does not support it (format v1 with the "
                                  "required clinicians, locations, rooms and virtual sessions extensions)")
    return doc


def validate(document: object) -> list[tuple[str, str]]:
    """Every problem found in the document, as (path, message); empty if valid."""
    try:
        parse(document)
    except ProblemError as error:
        return [(error.path, error.message)]
    return []


def parse(document: object) -> Problem:
    """The problem the document describes; raises ProblemError on the first fault."""
    doc = _obj(document, "")
    if doc.get("version") != 1:
        raise ProblemError("version", "must be 1")
    _known(doc, "document", "")
    clinic = _known(_obj(_need(doc, "clinic", ""), "clinic"), "clinic", "clinic")
    timezone = _timezone(_need(clinic, "timezone", "clinic"), "clinic.timezone")
    slot = _int(clinic.get("slot_minutes", 15), "clinic.slot_minutes", low=1)
    if 1440 % slot:
        raise ProblemError("clinic.slot_minutes", "must divide a day (1440 minutes)")
    horizon = _known(_obj(_need(clinic, "horizon", "clinic"), "clinic.horizon"), "horizon", "clinic.horizon")
    start = _date(_need(horizon, "start", "clinic.horizon"), "clinic.horizon.start")
    if start.weekday() != 0:
        raise ProblemError("clinic.horizon.start", "must be a Monday")
    weeks = _int(_need(horizon, "weeks", "clinic.horizon"), "clinic.horizon.weeks", low=1)

    rules = _known(_obj(doc.get("rules", {}), "rules"), "rules", "rules")
    transition = _int(rules.get("transition_minutes", 0), "rules.transition_minutes", low=0)
    max_wait = rules.get("max_wait_minutes")
    if max_wait is not None:
        max_wait = _int(max_wait, "rules.max_wait_minutes", low=0)
        if max_wait < transition:
            raise ProblemError("rules.max_wait_minutes", "must be >= rules.transition_minutes")

    locations = _locations(clinic)
    providers = [
        _provider(i, p, f"providers[{i}]", locations)
        for i, p in enumerate(_list(_need(doc, "providers", ""), "providers"))
    ]
    _unique([p.id for p in providers], "providers", "id")
    known = {p.id: p for p in providers}
    patients = [
        _patient(i, p, f"patients[{i}]", known, locations)
        for i, p in enumerate(_list(_need(doc, "patients", ""), "patients"))
    ]
    _unique([p.id for p in patients], "patients", "id")
    rooms = _rooms(doc, locations)
    extended = bool(locations or rooms or "rooms" in doc) or any(
        p.locations is not None or p.accepts_virtual or any(
            line.room_kind or line.mode != "in_person" for phase in p.phases for line in phase.sessions
        ) or (p.assessment is not None and (p.assessment.room_kind or p.assessment.mode != "in_person"))
        for p in patients
    )
    return Problem(timezone, slot, start, weeks, transition, max_wait, providers, patients,
                   locations, rooms, extended)


def _locations(clinic: dict) -> list[Location]:
    if "locations" not in clinic:
        return []
    raw = _list(clinic["locations"], "clinic.locations")
    if not raw:
        raise ProblemError("clinic.locations", "must list at least one location (or be left out)")
    locations = []
    for i, item in enumerate(raw):
        where = f"clinic.locations[{i}]"
        doc = _known(_obj(item, where), "location", where)
        ident = _text(_need(doc, "id", where), f"{where}.id")
        name = _text(doc.get("name", ident), f"{where}.name")
        locations.append(Location(i, ident, name))
    _unique([loc.id for loc in locations], "clinic.locations", "id")
    return locations


def _location_ref(raw: object, path: str, locations: list[Location]) -> int:
    ident = _text(raw, path)
    for location in locations:
        if location.id == ident:
            return location.index
    if not locations:
        raise ProblemError(path, "names a location, but clinic.locations is absent")
    raise ProblemError(path, f"unknown location {ident!r}")


def _rooms(doc: dict, locations: list[Location]) -> list[Room]:
    rooms = []
    for i, item in enumerate(_list(doc.get("rooms", []), "rooms")):
        where = f"rooms[{i}]"
        raw = _known(_obj(item, where), "room", where)
        rooms.append(Room(
            index=i,
            id=_text(_need(raw, "id", where), f"{where}.id"),
            location=_location_ref(_need(raw, "location", where), f"{where}.location", locations),
            kind=_text(_need(raw, "kind", where), f"{where}.kind"),
            capacity=_int(raw.get("capacity", 1), f"{where}.capacity", low=1, high=1000),
            booked=_dated_list(raw.get("booked", []), f"{where}.booked"),
            time_off=_dated_list(raw.get("time_off", []), f"{where}.time_off"),
        ))
    _unique([room.id for room in rooms], "rooms", "id")
    return rooms


def _mode(raw: object, path: str) -> str:
    if raw not in ("in_person", "virtual", "either"):
        raise ProblemError(path, "must be 'in_person', 'virtual' or 'either'")
    return raw


def _room_kind(raw: object, path: str) -> str | None:
    return None if raw is None else _text(raw, path)


def _provider(index: int, raw: object, path: str, locations: list[Location]) -> Provider:
    doc = _known(_obj(raw, path), "provider", path)
    disciplines = _list(_need(doc, "disciplines", path), f"{path}.disciplines")
    if not disciplines:
        raise ProblemError(f"{path}.disciplines", "must list at least one discipline")
    return Provider(
        index=index,
        id=_text(_need(doc, "id", path), f"{path}.id"),
        disciplines=frozenset(_text(d, f"{path}.disciplines[{i}]") for i, d in enumerate(disciplines)),
        weekly=_windows(_need(doc, "weekly", path), f"{path}.weekly", locations),
        time_off=_dated_list(doc.get("time_off", []), f"{path}.time_off"),
        booked=_dated_list(doc.get("booked", []), f"{path}.booked"),
    )


def _patient(index: int, raw: object, path: str, providers: dict[str, Provider],
             locations: list[Location]) -> Patient:
    doc = _known(_obj(raw, path), "patient", path)
    cap = doc.get("max_sessions_per_day")
    if cap is not None:
        cap = _int(cap, f"{path}.max_sessions_per_day", low=1)
    preferred = _obj(doc.get("preferred_providers", {}), f"{path}.preferred_providers")
    for discipline, provider_id in preferred.items():
        where = f"{path}.preferred_providers.{discipline}"
        _text(provider_id, where)
        if provider_id not in providers:
            raise ProblemError(where, f"unknown provider {provider_id!r}")
    required = _obj(doc.get("required_providers", {}), f"{path}.required_providers")
    for discipline, provider_id in required.items():
        where = f"{path}.required_providers.{discipline}"
        _text(provider_id, where)
        if provider_id not in providers:
            raise ProblemError(where, f"unknown provider {provider_id!r}")
        if discipline not in providers[provider_id].disciplines:
            raise ProblemError(where, f"{provider_id} does not practise {discipline}")
        if preferred.get(discipline, provider_id) != provider_id:
            raise ProblemError(f"{path}.preferred_providers.{discipline}",
                               f"names {preferred[discipline]}, but {provider_id} is required for {discipline}")
    accepted = None
    if "locations" in doc:
        accepted = frozenset(
            _location_ref(item, f"{path}.locations[{i}]", locations)
            for i, item in enumerate(_list(doc["locations"], f"{path}.locations"))
        )
        if not accepted:
            raise ProblemError(f"{path}.locations", "must list at least one location (or be left out: all)")
    accepts_virtual = doc.get("accepts_virtual", False)
    if not isinstance(accepts_virtual, bool):
        raise ProblemError(f"{path}.accepts_virtual", "must be true or false")
    plan = _known(_obj(_need(doc, "plan", path), f"{path}.plan"), "plan", f"{path}.plan")
    assessment = None
    if plan.get("assessment") is not None:
        where = f"{path}.plan.assessment"
        raw_assessment = _known(_obj(plan["assessment"], where), "assessment", where)
        assessment = Assessment(
            _text(_need(raw_assessment, "discipline", where), f"{where}.discipline"),
            _int(_need(raw_assessment, "minutes", where), f"{where}.minutes", low=1, high=1440),
            _room_kind(raw_assessment.get("room_kind"), f"{where}.room_kind"),
            _mode(raw_assessment.get("mode", "in_person"), f"{where}.mode"),
        )
    raw_phases = _list(_need(plan, "phases", f"{path}.plan"), f"{path}.plan.phases")
    phases = [_phase(p, f"{path}.plan.phases[{i}]") for i, p in enumerate(raw_phases)]
    patient = Patient(
        index=index,
        id=_text(_need(doc, "id", path), f"{path}.id"),
        earliest_start=_date(_need(doc, "earliest_start", path), f"{path}.earliest_start"),
        availability=_windows(_need(doc, "availability", path), f"{path}.availability"),
        booked=_dated_list(doc.get("booked", []), f"{path}.booked"),
        max_sessions_per_day=cap,
        preferred_providers=dict(preferred),
        assessment=assessment,
        phases=phases,
        required_providers=dict(required),
        locations=accepted,
        accepts_virtual=accepts_virtual,
    )
    patient.current = [
        _current(c, f"{path}.appointments[{i}]", patient, providers)
        for i, c in enumerate(_list(doc.get("appointments", []), f"{path}.appointments"))
    ]
    return patient


def _phase(raw: object, path: str) -> Phase:
    doc = _known(_obj(raw, path), "phase", path)
    lines = []
    seen = set()
    for i, raw_line in enumerate(_list(_need(doc, "sessions", path), f"{path}.sessions")):
        where = f"{path}.sessions[{i}]"
        line = _known(_obj(raw_line, where), "session", where)
        discipline = _text(_need(line, "discipline", where), f"{where}.discipline")
        if discipline in seen:
            raise ProblemError(f"{where}.discipline", f"{discipline!r} is already listed in this phase")
        seen.add(discipline)
        lines.append(
            SessionLine(
                discipline=discipline,
                per_week=_int(_need(line, "per_week", where), f"{where}.per_week", low=1, high=14),
                minutes=_int(_need(line, "minutes", where), f"{where}.minutes", low=1, high=1440),
                every_weeks=_int(line.get("every_weeks", 1), f"{where}.every_weeks", low=1),
                min_gap_days=_int(line.get("min_gap_days", 1), f"{where}.min_gap_days", low=0, high=7),
                room_kind=_room_kind(line.get("room_kind"), f"{where}.room_kind"),
                mode=_mode(line.get("mode", "in_person"), f"{where}.mode"),
            )
        )
    return Phase(
        name=_text(_need(doc, "name", path), f"{path}.name"),
        weeks=_int(_need(doc, "weeks", path), f"{path}.weeks", low=1),
        sessions=tuple(lines),
    )


def _current(raw: object, path: str, patient: Patient, providers: dict[str, Provider]) -> Current:
    doc = _known(_obj(raw, path), "appointment", path)
    provider = _text(_need(doc, "provider", path), f"{path}.provider")
    if provider not in providers:
        raise ProblemError(f"{path}.provider", f"unknown provider {provider!r}")
    discipline = _text(_need(doc, "discipline", path), f"{path}.discipline")
    kind = doc.get("kind", "treatment")
    if kind not in ("assessment", "treatment"):
        raise ProblemError(f"{path}.kind", "must be 'assessment' or 'treatment'")
    fixed = doc.get("fixed", False)
    if not isinstance(fixed, bool):
        raise ProblemError(f"{path}.fixed", "must be true or false")
    start = _datetime(_need(doc, "start", path), f"{path}.start")
    where = {}
    if doc.get("mode") is not None:
        where["mode"] = _mode(doc["mode"], f"{path}.mode")
    for key in ("location", "room"):
        if doc.get(key) is not None:
            where[key] = _text(doc[key], f"{path}.{key}")
    if kind == "assessment":
        if patient.assessment is None or patient.assessment.discipline != discipline:
            raise ProblemError(path, "the plan has no assessment of this discipline")
        return Current(path, provider, discipline, kind, None, None, start, fixed, **where)
    week = _int(_need(doc, "week", path), f"{path}.week", low=0)
    phase = _text(_need(doc, "phase", path), f"{path}.phase")
    first = 0
    for candidate in patient.phases:
        if first <= week < first + candidate.weeks:
            if candidate.name != phase:
                raise ProblemError(f"{path}.phase", f"plan week {week} belongs to phase {candidate.name!r}")
            if all(line.discipline != discipline for line in candidate.sessions):
                raise ProblemError(f"{path}.discipline", f"phase {phase!r} has no {discipline} sessions")
            return Current(path, provider, discipline, kind, phase, week, start, fixed, **where)
        first += candidate.weeks
    raise ProblemError(f"{path}.week", "is after the plan's last week")


def _windows(raw: object, path: str, locations: list[Location] | None = None) -> list[Window]:
    """Weekly windows; a provider's (`locations` given) name their location when the clinic lists any."""
    windows = []
    for i, item in enumerate(_list(raw, path)):
        where = f"{path}[{i}]"
        doc = _known(_obj(item, where), "window" if locations is None else "provider_window", where)
        location = None
        if locations:
            location = _location_ref(_need(doc, "location", where), f"{where}.location", locations)
        elif "location" in doc:
            _location_ref(doc["location"], f"{where}.location", [])
        day = _need(doc, "day", where)
        if day not in DAYS:
            raise ProblemError(f"{where}.day", "must be one of " + ", ".join(DAYS))
        start = _hhmm(_need(doc, "start", where), f"{where}.start")
        end = _hhmm(_need(doc, "end", where), f"{where}.end")
        if end <= start:
            raise ProblemError(f"{where}.end", "must be after start")
        windows.append(Window(DAYS.index(day), start, end, location))
    if locations:
        for i, a in enumerate(windows):
            for b in windows[i + 1:]:
                if a.weekday == b.weekday and a.location != b.location and a.start < b.end and b.start < a.end:
                    raise ProblemError(f"{path}[{windows.index(b)}]",
                                       "overlaps a window at another location on the same day")
    return windows


def _dated_list(raw: object, path: str) -> list[Dated]:
    intervals = []
    for i, item in enumerate(_list(raw, path)):
        where = f"{path}[{i}]"
        doc = _known(_obj(item, where), "dated", where)
        start = _datetime(_need(doc, "start", where), f"{where}.start")
        end = _datetime(_need(doc, "end", where), f"{where}.end")
        if end <= start:
            raise ProblemError(f"{where}.end", "must be after start")
        intervals.append(Dated(start, end))
    return intervals


def _need(doc: dict, key: str, path: str) -> object:
    if key not in doc:
        raise ProblemError(f"{path}.{key}" if path else key, "is required")
    return doc[key]


def _obj(raw: object, path: str) -> dict:
    if not isinstance(raw, dict):
        raise ProblemError(path or "(document)", "must be an object")
    return raw


def _list(raw: object, path: str) -> list:
    if not isinstance(raw, list):
        raise ProblemError(path, "must be a list")
    return raw


def _text(raw: object, path: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise ProblemError(path, "must be a non-empty string")
    return raw


def _int(raw: object, path: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ProblemError(path, "must be an integer")
    if low is not None and raw < low:
        raise ProblemError(path, f"must be >= {low}")
    if high is not None and raw > high:
        raise ProblemError(path, f"must be <= {high}")
    return raw


def _hhmm(raw: object, path: str) -> int:
    match = _HHMM.match(raw) if isinstance(raw, str) else None
    if not match:
        raise ProblemError(path, "must be a time HH:MM")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ProblemError(path, "must be a time between 00:00 and 24:00")
    return hours * 60 + minutes


def _date(raw: object, path: str) -> dt.date:
    try:
        if not isinstance(raw, str) or len(raw) != 10:
            raise ValueError
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ProblemError(path, "must be a date YYYY-MM-DD") from None


def _datetime(raw: object, path: str) -> dt.datetime:
    if isinstance(raw, str) and len(raw) == 16 and raw[10] == "T" and _DATETIME.match(raw):
        try:
            return dt.datetime.fromisoformat(raw)
        except ValueError:
            pass
    raise ProblemError(path, "must be a local date and time YYYY-MM-DDTHH:MM")


def _timezone(raw: object, path: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = _text(raw, path)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProblemError(path, f"unknown IANA time zone {name!r}") from None
    return name


def _unique(ids: list[str], path: str, key: str) -> None:
    seen = set()
    for i, value in enumerate(ids):
        if value in seen:
            raise ProblemError(f"{path}[{i}].{key}", f"duplicate id {value!r}")
        seen.add(value)
