"""A plan, the patient, the clinic's providers and their calendars as a scheduling problem (format v1,
shared/scheduling-problem.md): the plain data the optimizer reads.

Ids in the document are "provider-<id>" and "patient-<id>" (database ids); `provider_key`/`patient_key`
make them and `record_id` reads them back. Times are the clinic's local wall times, converted from the
stored UTC instants through the clinic's zone, so a daylight-saving change lands on the right hour.

The document carries only what the solve can use (issue 19: 964 KB at a network's scale, now under 100 KB): the
clinicians the plans name and, per discipline, a shortlist of the freest in the patients' hours taken in turn
from each site (`shortlist`: a clinic's own size keeps them all), and each one's busy time (appointments, holds, time
off, in one `booked` list) cut to their working hours on the days those sessions may fall, merged, with the
free gaps too short for any of them filled in, and busy time that stands at the start or end of a weekly
window on every one of those days said once as a later start or earlier end of that window.
`compact` does that part; it changes no option the optimizer sees.
"""
from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from careplan.clinic.models import Discipline
from careplan.clinic.service import DAYS, effective_settings, timezone_name, zone
from careplan.db import naive_utc
from careplan.errors import Invalid
from careplan.extensions import db
from careplan.plans.models import CarePlan
from careplan.providers.models import Provider, ProviderAvailability, ProviderTimeOff, provider_disciplines
from careplan.rooms.models import Location, Room
from careplan.scheduling.models import Appointment, overlapping

FORMAT_VERSION = 1


def provider_key(provider_id: int) -> str:
    return f"provider-{provider_id}"


def patient_key(patient_id: int) -> str:
    return f"patient-{patient_id}"


def location_key(location_id: int) -> str:
    return f"location-{location_id}"


def room_key(room_id: int) -> str:
    return f"room-{room_id}"


def record_id(key: str) -> int:
    """"provider-12" or "patient-7" -> 12 or 7."""
    return int(key.rsplit("-", 1)[1])


def optional_record_id(key: str | None) -> int | None:
    return None if key is None else record_id(key)


def wall_time(moment: datetime) -> str:
    return moment.astimezone(zone()).strftime("%Y-%m-%dT%H:%M")


def _weekly(rows) -> list[dict]:
    return [{"day": DAYS[r.day], "start": r.start.strftime("%H:%M"), "end": r.end.strftime("%H:%M")} for r in rows]


def wall_interval(start: datetime, end: datetime) -> dict:
    return {"start": wall_time(start), "end": wall_time(end)}


# Busy time is kept in real time (naive UTC) while the document is built: the database's rows need no
# conversion (only the few intervals written out do), and a gap's length is the real minutes the optimizer
# counts (shared/scheduling-problem.md: wall times are read as their first occurrence).

def _real(moment: datetime) -> datetime:
    """A stored (aware) instant as naive UTC."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


@lru_cache(maxsize=16384)
def _wall_to_real(wall: datetime, tz: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


@lru_cache(maxsize=65536)
def _stamp(real: datetime, tz: ZoneInfo) -> str:
    # Cached: the same instants (a grid's hours, across clinicians) are written out again and again.
    return real.replace(tzinfo=timezone.utc).astimezone(tz).replace(tzinfo=None).isoformat(timespec="minutes")


def _busy(column, ids: list[int], window: tuple[datetime, datetime]) -> dict[int, list[tuple[datetime, datetime]]]:
    """Every appointment that is not cancelled, by provider or patient, inside the horizon, in real time.
    Three columns, not the rows: at a network's scale a plan's clinicians have tens of thousands."""
    found: dict[int, list[tuple[datetime, datetime]]] = {}
    if not ids:
        return found
    condition = (column.in_(ids), Appointment.status != "cancelled", overlapping(Appointment, window[0], window[1]))
    starts, ends = naive_utc(Appointment.starts_at), naive_utc(Appointment.ends_at)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # One row a person, their appointments' bounds as two arrays: at a network's scale a plan's hundred
        # clinicians have 18,000 appointments over its weeks, and a Python row for each was a third of the
        # document's time.
        for who, firsts, lasts in connection.execute(
                select(column, func.array_agg(starts), func.array_agg(ends)).where(*condition).group_by(column)).all():
            found[who] = list(zip(firsts, lasts))
        return found
    # SQLite: plain rows on the session's connection, without the ORM's per-row loading.
    for who, starts_at, ends_at in connection.execute(select(column, starts, ends).where(*condition)).all():
        found.setdefault(who, []).append((starts_at, ends_at))
    return found


@dataclass
class _Busy:
    """Busy intervals (real time) by document id while the document is built: holds, a re-plan's own appointments
    and "not before now" change them before `compact` turns them into `booked` lists."""
    reach: dict[str, dict[date, int]]   # _reach of the document (hints and busy time do not change it)
    providers: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    patients: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)


def _plan_document(plan: CarePlan, room_kinds: dict[str, str]) -> dict:
    """The plan's phases and lines; with the clinic's rooms, each line of a discipline that holds a room names
    its kind, and a line held by video (or either way) says so."""
    def line_document(line) -> dict:
        entry = {"discipline": line.discipline_code, "per_week": line.per_week, "minutes": line.minutes,
                 "every_weeks": line.every_weeks, "min_gap_days": line.min_gap_days}
        if line.discipline_code in room_kinds:
            entry["room_kind"] = room_kinds[line.discipline_code]
        if line.mode != "in_person":
            entry["mode"] = line.mode
        return entry

    document = {"phases": [
        {"name": phase.name, "weeks": phase.weeks, "sessions": [line_document(line) for line in phase.lines]}
        for phase in plan.phases]}
    if plan.assessment is not None:
        document["assessment"] = dict(plan.assessment)
        if plan.assessment["discipline"] in room_kinds:
            document["assessment"]["room_kind"] = room_kinds[plan.assessment["discipline"]]
    return document


def _places(window: tuple[datetime, datetime], plan_ids: list[int]) -> tuple[list, list, dict[str, str]]:
    """The extensions' data (shared/scheduling-problem.md "Optional extensions"): the open locations, the open
    rooms with what already holds them (this run's plans' own appointments aside: they are hints), and the
    room kind of each discipline that needs one (only when the clinic has rooms at all)."""
    locations = list(db.session.scalars(select(Location).where(Location.active.is_(True)).order_by(Location.id)))
    open_ids = {location.id for location in locations}
    rooms = [r for r in db.session.scalars(select(Room).where(Room.active.is_(True)).order_by(Room.id))
             if r.location_id in open_ids]
    held: dict[int, list[dict]] = {}
    if rooms:
        query = select(Appointment).where(
            Appointment.room_id.in_([r.id for r in rooms]), Appointment.status != "cancelled",
            overlapping(Appointment, window[0], window[1])).order_by(Appointment.starts_at)
        for row in db.session.scalars(query):
            if row.plan_id is None or row.plan_id not in plan_ids:
                held.setdefault(row.room_id, []).append(wall_interval(row.starts_at, row.ends_at))
    documents = [{"id": room_key(r.id), "location": location_key(r.location_id), "kind": r.kind,
                  "capacity": r.capacity, "booked": held.get(r.id, [])} for r in rooms]
    kinds = {}
    if rooms:
        kinds = dict(db.session.execute(select(Discipline.code, Discipline.room_kind)
                                        .where(Discipline.room_kind.is_not(None))).all())
    return [{"id": location_key(loc.id), "name": loc.name} for loc in locations], documents, kinds


def _weekly_at(rows, locations: list[dict]) -> list[dict]:
    """A provider's windows, each at its location; one naming none (or a closed one) is at the first location
    when the clinic has one, and left out when it has several (the admin must say where)."""
    known = {loc["id"] for loc in locations}
    out = []
    for row in rows:
        where = location_key(row.location_id) if row.location_id is not None else None
        if where not in known:
            if len(locations) != 1:
                continue
            where = locations[0]["id"]
        out.append({"day": DAYS[row.day], "start": row.start.strftime("%H:%M"), "end": row.end.strftime("%H:%M"),
                    "location": where})
    return out


def problem_for_plans(plans: list[CarePlan], *, start: date | None = None, weeks: int | None = None,
                      preferred_providers: dict[int, dict[str, int]] | None = None,
                      patient_availability: dict[int, list[dict]] | None = None) -> dict:
    """The problem document for scheduling these plans, one patient entry per plan.

    start: the horizon's Monday (default: the Monday of the earliest plan's week 0); weeks: its length
    (default: long enough for every plan). The care team's members are `required_providers` when marked
    required, `preferred_providers` otherwise. preferred_providers: {plan id: {discipline: provider id}},
    over the care team's choices (a discipline named there is a preference, even if the team requires
    someone for it: the front desk asked for this proposal to try another clinician).
    patient_availability: {patient id: [{"day": 0..6, "start": time, "end": time}]} instead of the
    patient's recorded windows (e.g. this once, other hours).
    The active providers who could take one of the plans' sessions are offered (a shortlist of them per
    discipline beyond the clinic's own size: `shortlist`), with their weekly hours and
    their time off and appointments as `booked` (see `compact`); each patient's other appointments are
    `booked` on their side.
    """
    document, busy = _problem(plans, start=start, weeks=weeks, preferred_providers=preferred_providers,
                              patient_availability=patient_availability)
    return compact(*shortlist(document, busy))


def _problem(plans: list[CarePlan], *, start: date | None = None, weeks: int | None = None,
             preferred_providers: dict[int, dict[str, int]] | None = None,
             patient_availability: dict[int, list[dict]] | None = None) -> tuple[dict, _Busy]:
    """problem_for_plans before `compact`: the document without busy time, and the busy time apart."""
    _refuse_plans(plans)
    patients = [plan.patient_id for plan in plans]
    horizon_start = start or min(plan.week_zero for plan in plans)
    if horizon_start.weekday() != 0:
        raise Invalid("The horizon starts on a Monday.", fields={"start": "must be a Monday"})
    late = [plan.id for plan in plans if plan.week_zero < horizon_start]
    if late:
        raise Invalid(f"Plan {late[0]} starts before the horizon.", fields={"start": "after a plan's week 0"})
    needed_weeks = max((plan.week_zero - horizon_start).days // 7 + plan.total_weeks for plan in plans)
    horizon_weeks = weeks or needed_weeks
    tz = zone()
    window = (datetime.combine(horizon_start, time(0), tzinfo=tz),
              datetime.combine(horizon_start + timedelta(weeks=horizon_weeks), time(0), tzinfo=tz))

    needed = set().union(*(plan.disciplines for plan in plans))
    providers = _clinicians(needed, window)
    locations, rooms, room_kinds = _places(window, [plan.id for plan in plans])
    settings = effective_settings()
    rules = {"transition_minutes": settings["transition_minutes"], "max_wait_minutes": settings["max_wait_minutes"]}
    if rules["max_wait_minutes"] < rules["transition_minutes"]:
        rules["max_wait_minutes"] = rules["transition_minutes"]
    document = {
        "version": FORMAT_VERSION,
        "clinic": {"timezone": timezone_name(), "slot_minutes": settings["slot_minutes"],
                   "horizon": {"start": horizon_start.isoformat(), "weeks": horizon_weeks}},
        "rules": rules,
        "providers": [
            {"id": provider_key(p.id), "disciplines": sorted(needed & set(p.discipline_codes)),
             "weekly": _weekly_at(p.availability, locations) if locations else _weekly(p.availability)}
            for p in providers],
        "patients": [],
    }
    offered = {p.id: set(p.discipline_codes) for p in providers}
    for plan in plans:
        overrides = (preferred_providers or {}).get(plan.id, {})
        required = _required(plan, overrides)
        preferred = {m.discipline_code: m.provider_id for m in plan.care_team if not m.required}
        preferred.update(overrides)
        windows = (patient_availability or {}).get(plan.patient_id)
        # The clinic's limit, or the patient's own when lower: a visit a person in pain can bear.
        clinic_most = settings["max_sessions_per_day"]
        most = min(clinic_most, plan.patient.max_sessions_per_day or clinic_most)
        document["patients"].append({
            "id": patient_key(plan.patient_id),
            "max_sessions_per_day": most,
            "earliest_start": plan.start_date.isoformat(),
            "availability": [{"day": DAYS[w["day"]], "start": w["start"].strftime("%H:%M"),
                              "end": w["end"].strftime("%H:%M")} for w in windows]
            if windows is not None else _weekly(plan.patient.availability),
            "booked": [],
            # A preference for someone who cannot take the discipline (left, inactive) would only mislead.
            "preferred_providers": {discipline: provider_key(provider_id)
                                    for discipline, provider_id in sorted(preferred.items())
                                    if discipline in offered.get(provider_id, set())},
            "plan": _plan_document(plan, room_kinds),
        })
        entry = document["patients"][-1]
        if plan.patient.accepts_virtual:
            entry["accepts_virtual"] = True
        accepted = [location_key(loc.id) for loc in plan.patient.locations
                    if location_key(loc.id) in {x["id"] for x in locations}]
        if accepted:
            entry["locations"] = accepted
        _refuse_gone(plan, required, offered)
        if required:
            document["patients"][-1]["required_providers"] = {
                discipline: provider_key(provider_id) for discipline, provider_id in sorted(required.items())}
    if locations:
        document["clinic"]["locations"] = locations
    if rooms:
        document["rooms"] = rooms
    # Busy time is read only for the clinicians who could take a session of these plans on some day: at a
    # network's scale the others' appointments are most of the rows.
    reach = _reach(document)
    weekly = {entry["id"]: entry["weekly"] for entry in document["providers"]}
    reached = [p for p in providers if _works(weekly[provider_key(p.id)], reach.get(provider_key(p.id), {}))]
    busy = _Busy(reach=reach, patients={patient_key(who): found for who, found in
                           _busy(Appointment.patient_id, patients, window).items()})
    for who, found in _busy(Appointment.provider_id, [p.id for p in reached], window).items():
        busy.providers[provider_key(who)] = found
    for p in reached:
        busy.providers.setdefault(provider_key(p.id), []).extend(p.time_off)
    return document, busy


@dataclass
class _Clinician:
    """An active provider as the document reads them: disciplines, weekly windows (rows with day, start, end and
    location_id, by day and start) and their time off over the horizon (naive UTC)."""
    id: int
    discipline_codes: list[str] = field(default_factory=list)
    availability: list = field(default_factory=list)
    time_off: list[tuple[datetime, datetime]] = field(default_factory=list)


def _clinicians(needed: set[str], window: tuple[datetime, datetime]) -> list[_Clinician]:
    """The active providers of any of these disciplines, by id, in three statements of plain rows: at a network's
    scale the ORM's loading of 135 providers with their calendars was a tenth of the document's time, and their
    whole history of time off was read for a horizon of weeks. Each statement chooses the providers anew: the
    rows of one that only a later statement chooses (activated meanwhile) are left out."""
    chosen = select(Provider.id).where(Provider.active.is_(True), Provider.disciplines.any(Discipline.code.in_(needed)))
    connection = db.session.connection()
    found: dict[int, _Clinician] = {}
    for who, code in connection.execute(
            select(provider_disciplines.c.provider_id, provider_disciplines.c.discipline_code)
            .where(provider_disciplines.c.provider_id.in_(chosen))
            .order_by(provider_disciplines.c.provider_id, provider_disciplines.c.discipline_code)).all():
        if who not in found:
            found[who] = _Clinician(who)
        found[who].discipline_codes.append(code)
    for row in connection.execute(
            select(ProviderAvailability.provider_id, ProviderAvailability.day, ProviderAvailability.start,
                   ProviderAvailability.end, ProviderAvailability.location_id)
            .where(ProviderAvailability.provider_id.in_(chosen))
            .order_by(ProviderAvailability.day, ProviderAvailability.start)).all():
        if row.provider_id in found:
            found[row.provider_id].availability.append(row)
    for who, starts_at, ends_at in connection.execute(
            select(ProviderTimeOff.provider_id, naive_utc(ProviderTimeOff.starts_at),
                   naive_utc(ProviderTimeOff.ends_at))
            .where(ProviderTimeOff.provider_id.in_(chosen), ProviderTimeOff.starts_at < window[1],
                   ProviderTimeOff.ends_at > window[0])).all():
        if who in found:
            found[who].time_off.append((starts_at, ends_at))
    return list(found.values())


def _required(plan: CarePlan, overrides: dict[str, int]) -> dict[str, int]:
    """The care team's required clinicians, by discipline, but for those this proposal asks to try another."""
    return {m.discipline_code: m.provider_id for m in plan.care_team
            if m.required and m.discipline_code not in overrides}


def _refuse_gone(plan: CarePlan, required: dict[str, int], offered: dict[int, set[str]]) -> None:
    gone = {d: p for d, p in required.items() if d not in offered.get(p, set())}
    if gone:
        # Never quietly given to someone else: the front desk chooses again.
        discipline = sorted(gone)[0]
        raise Invalid(f"The care team requires provider {gone[discipline]} for {discipline} in plan {plan.id}, "
                      "who no longer takes it; choose another clinician.",
                      fields={f"care_team.{discipline}": "required provider is not available"})


def _refuse_plans(plans: list[CarePlan]) -> None:
    if not plans:
        raise Invalid("Give at least one plan.", fields={"plans": "empty"})
    patients = [plan.patient_id for plan in plans]
    if len(set(patients)) != len(patients):
        raise Invalid("One plan per patient in a problem.", fields={"plans": "a patient appears twice"})


def check_plans(plans: list[CarePlan]) -> None:
    """What problem_for_plans refuses in these plans (none, a patient twice, a required clinician gone),
    without building the problem."""
    _refuse_plans(plans)
    for plan in plans:
        check_required_providers(plan)


def check_required_providers(plan: CarePlan, preferred_providers: dict[str, int] | None = None) -> None:
    """problem_for_plans' refusal of a required clinician who left, stopped or no longer takes the discipline,
    without building the problem (a job's submission checks it in the request; its worker builds)."""
    required = _required(plan, preferred_providers or {})
    providers = db.session.scalars(select(Provider).where(Provider.id.in_(set(required.values())),
                                                          Provider.active.is_(True))) if required else []
    _refuse_gone(plan, required, {p.id: set(p.discipline_codes) for p in providers})


# --- only what the solve can use ----------------------------------------------------------------------------

def _reach(document: dict) -> dict[str, dict[date, int]]:
    """For each clinician, the days on which a session of the plans that they may take can fall, each with
    the shortest such session that day (`_reach_by_discipline`, all disciplines together)."""
    union: dict[str, dict[date, int]] = {}
    for by_clinician in _reach_by_discipline(document).values():
        for who, days in by_clinician.items():
            into = union.get(who)
            if into is None:
                union[who] = dict(days)
                continue
            for day, minutes in days.items():
                into[day] = min(into.get(day, minutes), minutes)
    return union


def _reach_by_discipline(document: dict) -> dict[str, dict[str, dict[date, int]]]:
    """For each discipline and clinician, the days on which a session of that discipline of the plans that
    they may take can fall, each with the shortest such session that day: the plan weeks of
    shared/scheduling-problem.md (rules 1 to 3), the assessment from the earliest start to the horizon's end,
    and a discipline with a required clinician for that patient theirs alone."""
    horizon = date.fromisoformat(document["clinic"]["horizon"]["start"])
    end = horizon + timedelta(weeks=document["clinic"]["horizon"]["weeks"])
    qualified: dict[str, list[str]] = {}
    for provider in document["providers"]:
        for discipline in provider["disciplines"]:
            qualified.setdefault(discipline, []).append(provider["id"])
    # The days are gathered once per discipline for everyone qualified, and apart for a patient's required
    # clinician, then given to each clinician: at a network's scale (30 physiotherapists) walking every
    # qualified clinician's days for each plan week was a tenth of the document's time.
    anyone: dict[str, dict[date, int]] = {}
    only: dict[tuple[str, str], dict[date, int]] = {}

    def add(patient: dict, discipline: str, first: date, last: date, minutes: int) -> None:
        required = patient.get("required_providers", {}).get(discipline)
        days = only.setdefault((discipline, required), {}) if required else anyone.setdefault(discipline, {})
        day = max(first, horizon)
        while day < min(last, end):
            days[day] = min(days.get(day, minutes), minutes)
            day += timedelta(days=1)

    for patient in document["patients"]:
        earliest = date.fromisoformat(patient["earliest_start"])
        week_zero = earliest - timedelta(days=earliest.weekday())
        plan = patient["plan"]
        if "assessment" in plan:
            add(patient, plan["assessment"]["discipline"], earliest, end, plan["assessment"]["minutes"])
        first_week = 0
        for phase in plan["phases"]:
            for week in range(first_week, first_week + phase["weeks"]):
                monday = week_zero + timedelta(weeks=week)
                for line in phase["sessions"]:
                    if (week - first_week) % line.get("every_weeks", 1) == 0:
                        add(patient, line["discipline"], max(monday, earliest), monday + timedelta(days=7),
                            line["minutes"])
            first_week += phase["weeks"]
    reach: dict[str, dict[str, dict[date, int]]] = {}
    for discipline, days in anyone.items():
        reach[discipline] = {who: dict(days) for who in qualified.get(discipline, [])}
    for (discipline, who), days in only.items():
        into = reach.setdefault(discipline, {}).setdefault(who, {})
        for day, minutes in days.items():
            into[day] = min(into.get(day, minutes), minutes)
    return reach


def _merged(intervals) -> list[list[datetime]]:
    """Sorted, overlapping and touching intervals joined (as the optimizer joins them)."""
    out: list[list[datetime]] = []
    last = None
    # The last interval kept at hand: at a network's scale this joins 18,000 appointments a document.
    for start, end in sorted(intervals):
        if last is not None and start <= last[1]:
            if end > last[1]:
                last[1] = end
        else:
            last = [start, end]
            out.append(last)
    return out


@lru_cache(maxsize=1024)
def _hours(weekly: tuple[tuple[str, str, str], ...], reach: tuple[tuple[date, int], ...],
           tz: ZoneInfo) -> list[tuple[datetime, datetime, int, bool]]:
    """The clinician's working hours (weekly: (day, start, end) windows) on the reached days ((day, shortest
    session) pairs), in real time, as (start, end, shortest session, steady): each day's windows joined (a
    window's own free time lies inside its day's joined hours); `steady` is False on a day the clocks
    change, where wall minutes are not real minutes. Cached: clinicians with the same hours and sessions
    (most of a discipline's) share it."""
    by_day: dict[str, list[tuple[int, int]]] = {}
    for day_name, start, end in weekly:
        by_day.setdefault(day_name, []).append((_minutes(start), _minutes(end)))
    out = []
    for day, shortest in reach:
        windows = by_day.get(DAYS[day.weekday()])
        if not windows:
            continue
        midnight = datetime.combine(day, time(0))
        for start, end in _merged((midnight + timedelta(minutes=a), midnight + timedelta(minutes=b))
                                  for a, b in windows):
            out.append((_wall_to_real(start, tz), _wall_to_real(end, tz), shortest, _steady(day, tz)))
    return out


@lru_cache(maxsize=16384)
def _window_real(day: date, first: int, last: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A window of minutes after local midnight on that day, in real time."""
    midnight = datetime.combine(day, time(0))
    return (_wall_to_real(midnight + timedelta(minutes=first), tz),
            _wall_to_real(midnight + timedelta(minutes=last), tz))


def _works(weekly: list[dict], reach: dict[date, int]) -> bool:
    """Whether the clinician has working hours on one of the reached days."""
    days = {w["day"] for w in weekly}
    return any(DAYS[day.weekday()] in days for day in reach)


@lru_cache(maxsize=4096)
def _steady(day: date, tz: ZoneInfo) -> bool:
    midnight = datetime.combine(day, time(0))
    return midnight.replace(tzinfo=tz).utcoffset() == (midnight + timedelta(days=1)).replace(tzinfo=tz).utcoffset()


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _provider_booked(weekly: list[dict], merged: list[list[datetime]], reach: dict[date, int],
                     tz: ZoneInfo) -> list[list[datetime]]:
    """A clinician's busy time as the solve sees it: their working hours on the reached days minus the free
    time in which a session of that day could fit. The free time of every window the optimizer computes is
    unchanged for every session it may place there (a free gap shorter than the day's shortest session
    takes none, in any window); busy time outside those hours it never reads. Consecutive busy stretches
    with no working time between them (a full day, then the night) are one. `merged`: the busy time,
    `_merged`."""
    starts = [b[0] for b in merged]
    pieces: list[list[datetime]] = []
    previous_end = None
    for low, high, shortest, steady in _hours(tuple((w["day"], w["start"], w["end"]) for w in weekly),
                                              tuple(sorted(reach.items())), tz):
        # The busy time inside the hours, with the free gaps too short for the day's shortest session filled
        # (at the edges of the hours too), in one pass over the merged intervals.
        gap = timedelta(minutes=shortest) if steady else None
        inside: list[list[datetime]] = []
        i = max(bisect.bisect_right(starts, low) - 1, 0)
        while i < len(merged) and merged[i][0] < high:
            start, end = merged[i]
            i += 1
            if end <= low:
                continue
            start, end = max(start, low), min(end, high)
            if inside and (start <= inside[-1][1] or (gap and start - inside[-1][1] < gap)):
                inside[-1][1] = max(inside[-1][1], end)
            elif not inside and gap and low < start and start - low < gap:
                inside.append([low, end])
            else:
                inside.append([start, end])
        if gap:
            cursor = inside[-1][1] if inside else low
            if cursor < high and high - cursor < gap:
                if inside:
                    inside[-1][1] = high
                else:
                    inside.append([low, high])
        for piece in inside:
            if pieces and (pieces[-1][1] >= piece[0] or (pieces[-1][1] == previous_end and piece[0] == low)):
                pieces[-1][1] = max(pieces[-1][1], piece[1])
            else:
                pieces.append(piece)
        previous_end = high
    return pieces


def _standing_cut(weekly: list[dict], booked: list[list[datetime]], reach: dict[date, int], tz: ZoneInfo,
                  patient_windows: dict[str, list[tuple[int, int]]], longest: int) -> list[dict]:
    """The weekly windows without the busy time that stands at their start or end on every reached day of
    their weekday (a clinician booked 08:00-11:45 every morning of the horizon works 11:45-... for this
    solve): one window edge instead of one busy interval a day, and the free time of every window on every
    day the optimizer reads is the same. `booked` is `_provider_booked`'s (short gaps filled: they take no
    session). A window busy all through is kept whole (where a clinician works stays said), and so is one on
    a weekday whose clocks change on a reached day.

    The optimizer also reads the windows alone, to say why a session has no option ("nobody works inside
    the patient's windows" or "everybody is booked then"): so a window is cut no further than keeps its
    overlap with each patient window of that weekday (`patient_windows`, minutes) as long as it was, up to
    the `longest` session; that reason reads the same."""
    starts = [piece[0] for piece in booked]
    by_weekday: dict[str, list[date]] = {}
    for day in reach:
        by_weekday.setdefault(DAYS[day.weekday()], []).append(day)
    out = []
    for window in weekly:
        days = by_weekday.get(window["day"], [])
        first, last = _minutes(window["start"]), _minutes(window["end"])
        if not days or not all(_steady(day, tz) for day in days):
            out.append(window)
            continue
        new_first, new_last = last, first
        for day in days:
            if new_first == first and new_last == last:
                break  # free at both edges on some day: nothing stands
            low, high = _window_real(day, first, last, tz)
            i = bisect.bisect_right(starts, low) - 1
            covered_from_start = min(booked[i][1], high) if i >= 0 and booked[i][1] > low else low
            j = bisect.bisect_left(starts, high) - 1
            covered_to_end = max(booked[j][0], low) if j >= 0 and booked[j][1] >= high else high
            # A steady day: real minutes from the window's edges are wall minutes. Rounded towards the edge:
            # a busy part of a minute stays busy time inside the window.
            new_first = min(new_first, first + int((covered_from_start - low).total_seconds() // 60))
            new_last = max(new_last, last - int((high - covered_to_end).total_seconds() // 60))
        for low, high in patient_windows.get(window["day"], []):
            kept = min(min(last, high) - max(first, low), longest)
            if kept > 0:
                new_first = min(new_first, min(last, high) - kept)
        for low, high in patient_windows.get(window["day"], []):
            kept = min(min(last, high) - max(first, low), longest)
            if kept > 0:
                new_last = max(new_last, max(new_first, low) + kept)
        if (new_first, new_last) == (first, last) or new_first >= new_last:
            out.append(window)
            continue
        out.append({**window, "start": f"{new_first // 60:02d}:{new_first % 60:02d}",
                    "end": f"{new_last // 60:02d}:{new_last % 60:02d}"})
    return out


# How many clinicians of a discipline a plan is solved over, beside those it names (its care team, the
# clinicians it asks for, those of its current appointments): the ones with the most free time in the patient's
# hours. Care keeps one clinician per discipline where it can (continuity is an objective), so the best few
# serve every plan; at a network's scale (30 physiotherapists) the others' calendars were two thirds of the
# document (issue 19: 467 KB at L) and of the search.
CLINICIANS_PER_DISCIPLINE = 6


def shortlist(document: dict, busy: _Busy, per_discipline: int | None = None) -> tuple[dict, _Busy]:
    """The document with, for each discipline, the clinicians its patients name and the `per_discipline` (times
    the number of its patients needing the discipline) with the most free minutes inside those patients'
    windows on the days its sessions can fall; the others left out with their busy time. Nothing changes
    where a discipline has no more clinicians than that (a clinic's own size)."""
    per_discipline = per_discipline or CLINICIANS_PER_DISCIPLINE
    named = _named_providers(document)
    windows: dict[str, dict[str, list[tuple[int, int]]]] = {}
    needing: dict[str, int] = {}
    accepted: dict[str, set[str] | None] = {}
    for patient in document["patients"]:
        plan = patient["plan"]
        disciplines = {line["discipline"] for phase in plan["phases"] for line in phase["sessions"]}
        if "assessment" in plan:
            disciplines.add(plan["assessment"]["discipline"])
        for discipline in disciplines:
            needing[discipline] = needing.get(discipline, 0) + 1
            # The sites its patients come to (None: any site, as soon as one patient accepts any).
            sites = set(patient.get("locations") or []) or None
            if discipline not in accepted:
                accepted[discipline] = sites
            elif accepted[discipline] is None or sites is None:
                accepted[discipline] = None
            else:
                accepted[discipline] |= sites
            by_day = windows.setdefault(discipline, {})
            for window in patient["availability"]:
                by_day.setdefault(window["day"], []).append((_minutes(window["start"]), _minutes(window["end"])))
    offering: dict[str, list[dict]] = {}
    for provider in document["providers"]:
        for discipline in provider["disciplines"]:
            offering.setdefault(discipline, []).append(provider)
    if all(len(offering.get(d, [])) <= per_discipline * n for d, n in needing.items()):
        return document, busy
    tz = ZoneInfo(document["clinic"]["timezone"])
    reach = _reach_by_discipline(document)
    kept = set(named)
    for discipline, providers in offering.items():
        room = per_discipline * needing.get(discipline, 0)
        if len(providers) <= room + sum(1 for p in providers if p["id"] in named):
            kept.update(p["id"] for p in providers)
            continue
        # Free time on the days this discipline's sessions can fall (a clinician of two disciplines is ranked
        # on each one's days, not on the union).
        days = reach.get(discipline, {})
        others = [p for p in providers if p["id"] not in named]
        free = {p["id"]: _free_minutes(p, busy, windows.get(discipline, {}), tz, days.get(p["id"], {}))
                for p in others}
        # Those at the patients' sites first, then the others: a video session may be held from any site, and a
        # discipline nobody offers at those sites keeps clinicians, so the reason given is the sites, not "no
        # provider offers it".
        sites = accepted.get(discipline)
        near = [p for p in others if sites is None or any(w.get("location") in sites for w in p["weekly"])]
        far = [p for p in others if p not in near]
        kept.update((_by_site(near, free) + _by_site(far, free))[:room])
    document["providers"] = [p for p in document["providers"] if p["id"] in kept]
    busy.providers = {who: found for who, found in busy.providers.items() if who in kept}
    busy.reach = {who: days for who, days in busy.reach.items() if who in kept}
    return document, busy


def _by_site(providers: list[dict], free: dict[str, int]) -> list[str]:
    """The clinicians, freest first, taken in turn from each site they work at (their windows' locations): a
    patient's sessions of a day are at one location, so a visit bundles clinicians of one site, and the
    freest of a discipline may all work at a site where none of the plan's other disciplines is offered."""
    sites: dict[frozenset, list[str]] = {}
    for provider in providers:
        site = frozenset(w.get("location") for w in provider["weekly"])
        sites.setdefault(site, []).append(provider["id"])
    queues = sorted((sorted(ids, key=lambda who: (-free[who], record_id(who))) for ids in sites.values()),
                    key=lambda ids: (-free[ids[0]], record_id(ids[0])))
    ranked = []
    while any(queues):
        for queue in queues:
            if queue:
                ranked.append(queue.pop(0))
    return ranked


def _named_providers(document: dict) -> set[str]:
    """The clinicians a patient names: preferred, required, or holding one of their current appointments."""
    return {who for patient in document["patients"]
            for who in [*patient.get("preferred_providers", {}).values(),
                        *patient.get("required_providers", {}).values(),
                        *(a["provider"] for a in patient.get("appointments", []))]}


ONE_MINUTE = timedelta(minutes=1)


def _free_minutes(provider: dict, busy: _Busy, patient_windows: dict[str, list[tuple[int, int]]],
                  tz: ZoneInfo, days: dict[date, int]) -> int:
    """The clinician's free minutes on `days` (those a discipline's sessions can fall on), inside their working
    hours and the patients' windows: what is left of the time a plan could use once their own calendar is
    taken out."""
    if not days:
        return 0
    own = _merged(busy.providers.get(provider["id"], []))
    # The busy time taken out of a window by sums: merged intervals do not overlap, so the seconds taken are
    # those of the intervals it meets, less the parts of the first and last outside it (at a network's scale
    # this runs for a hundred clinicians over a plan's every day).
    # Sums of timedeltas, exact: time off may be given to the microsecond, where float seconds would round a
    # fully booked window to -1 minute.
    starts, ends = [a for a, _ in own], [b for _, b in own]
    lengths = [timedelta(0), *itertools.accumulate(b - a for a, b in own)]
    total = 0
    for start, end in _usable(tuple((w["day"], w["start"], w["end"]) for w in provider["weekly"]),
                              tuple((name, tuple(spans)) for name, spans in patient_windows.items()), tuple(days), tz):
        free = end - start
        i, j = bisect.bisect_right(ends, start), bisect.bisect_left(starts, end)
        if i < j:
            free -= lengths[j] - lengths[i]
            if starts[i] < start:
                free += start - starts[i]
            if end < ends[j - 1]:
                free += ends[j - 1] - end
        total += free // ONE_MINUTE
    return total


@lru_cache(maxsize=256)
def _usable(weekly: tuple[tuple[str, str, str], ...],
            patient_windows: tuple[tuple[str, tuple[tuple[int, int], ...]], ...], days: tuple[date, ...],
            tz: ZoneInfo) -> tuple[tuple[datetime, datetime], ...]:
    """The working hours (weekly: (day, start, end)) inside the patients' windows (minutes, by weekday) on each
    of `days`, in real time. Cached: the clinicians of a discipline mostly share their hours and days, and
    at a network's scale a hundred of them are ranked, each over a plan's every day."""
    hours: dict[str, list[tuple[int, int]]] = {}
    for day_name, start, end in weekly:
        hours.setdefault(day_name, []).append((_minutes(start), _minutes(end)))
    windows = dict(patient_windows)
    usable = {name: [(max(low, first), min(high, last)) for low, high in hours.get(name, [])
                     for first, last in windows.get(name, ()) if max(low, first) < min(high, last)]
              for name in DAYS}
    return tuple(_window_real(day, a, b, tz) for day in days for a, b in usable[DAYS[day.weekday()]])


def compact(document: dict, busy: _Busy) -> dict:
    """The document with only what the solve can use: the clinicians who could take one of its sessions
    (those referenced by a patient's preferences, requirements or current appointments always), each with
    one `booked` list of busy time cut to what the optimizer reads (`_provider_booked`); each patient's busy
    time merged. A clinician with no working hours on any day they could serve is left out too, unless no
    other clinician of one of their disciplines would remain (the optimizer then says why nobody works then,
    not that nobody offers the discipline)."""
    reach = busy.reach
    tz = ZoneInfo(document["clinic"]["timezone"])
    referenced = _named_providers(document)
    patient_windows: dict[str, list[tuple[int, int]]] = {}
    for patient in document["patients"]:
        for window in patient["availability"]:
            patient_windows.setdefault(window["day"], []).append((_minutes(window["start"]), _minutes(window["end"])))
    longest = max([line["minutes"] for patient in document["patients"] for phase in patient["plan"]["phases"]
                   for line in phase["sessions"]]
                  + [patient["plan"]["assessment"]["minutes"] for patient in document["patients"]
                     if "assessment" in patient["plan"]], default=0)
    kept, idle = [], []
    for provider in document["providers"]:
        days = reach.get(provider["id"], {})
        own = _merged(busy.providers.get(provider["id"], [])) if days else []
        booked = _provider_booked(provider["weekly"], own, days, tz) if days else []
        entry = {key: value for key, value in provider.items() if key not in ("time_off", "booked")}
        if booked:
            weekly = _standing_cut(provider["weekly"], booked, days, tz, patient_windows, longest)
            if weekly != provider["weekly"]:
                entry["weekly"] = weekly
                booked = _provider_booked(weekly, own, days, tz)
        entry["booked"] = [{"start": _stamp(a, tz), "end": _stamp(b, tz)} for a, b in booked]
        if provider["id"] in referenced or _works(provider["weekly"], days):
            kept.append(entry)
        elif days:
            idle.append(entry)
    covered = {discipline for entry in kept for discipline in entry["disciplines"]}
    for entry in idle:
        if not covered.issuperset(entry["disciplines"]):
            kept.append(entry)
            covered.update(entry["disciplines"])
    order = {provider["id"]: n for n, provider in enumerate(document["providers"])}
    document["providers"] = sorted(kept, key=lambda entry: order[entry["id"]])
    for patient in document["patients"]:
        patient["booked"] = [{"start": _stamp(a, tz), "end": _stamp(b, tz)}
                             for a, b in _merged(busy.patients.get(patient["id"], []))]
    return document


# --- one proposal's problem: the plan's document with what this proposal adds -----------------------------

def hint(appointment_like, *, provider_id: int, start: datetime, label: tuple[str, int] | None = None) -> dict:
    """A booked (or held) appointment as the optimizer's hint (a current appointment it keeps if it can);
    `label`: the (phase, plan week) it answers now, if not its own."""
    entry = {"provider": provider_key(provider_id), "discipline": appointment_like.discipline_code,
             "kind": appointment_like.kind, "start": wall_time(start), "fixed": False}
    if getattr(appointment_like, "virtual", False):
        entry["mode"] = "virtual"
    elif getattr(appointment_like, "room_id", None) is not None:
        entry["room"] = room_key(appointment_like.room_id)
    if appointment_like.kind != "assessment":
        phase, week = label or (appointment_like.phase_name, appointment_like.plan_week)
        entry.update(phase=phase, week=week)
    return entry


def _add_busy(document: dict, busy: _Busy, holds) -> None:
    """Holds of other open proposals, (provider id, patient id, starts_at, ends_at[, room id]), are busy time
    (the room's too, when the hold has one)."""
    rooms = {r["id"]: r for r in document.get("rooms", [])}
    for provider_id, patient_id, starts_at, ends_at, *room in holds:
        if room and room[0] is not None and room_key(room[0]) in rooms:
            rooms[room_key(room[0])]["booked"].append(wall_interval(starts_at, ends_at))
        interval = (_real(starts_at), _real(ends_at))
        busy.providers.setdefault(provider_key(provider_id), []).append(interval)
        busy.patients.setdefault(patient_key(patient_id), []).append(interval)


def _not_before(document: dict, busy: _Busy, now: datetime) -> None:
    """Nothing new lands in the past: each patient is busy from the horizon's start until `now` (rounded up
    to the clinic's grid)."""
    slot = document["clinic"]["slot_minutes"]
    local = now.astimezone(zone())
    minutes = -(-(local.hour * 60 + local.minute + (1 if local.second or local.microsecond else 0)) // slot) * slot
    until = datetime.combine(local.date(), time(0)) + timedelta(minutes=minutes)
    horizon = datetime.combine(date.fromisoformat(document["clinic"]["horizon"]["start"]), time(0))
    if until > horizon:
        tz = zone()
        for patient in document["patients"]:
            busy.patients.setdefault(patient["id"], []).append((_wall_to_real(horizon, tz), _wall_to_real(until, tz)))


def _free_own(document: dict, busy: _Busy, own) -> None:
    """problem_for_plans lists every appointment as busy; a re-plan's own movable ones are hints instead."""
    patient = busy.patients.get(document["patients"][0]["id"], [])
    for appointment in own:
        interval = (_real(appointment.starts_at), _real(appointment.ends_at))
        if interval in patient:
            patient.remove(interval)
        provider = busy.providers.get(provider_key(appointment.provider_id), [])
        if interval in provider:
            provider.remove(interval)
        stamped = wall_interval(appointment.starts_at, appointment.ends_at)
        for room in document.get("rooms", []):
            if appointment.room_id is not None and room["id"] == room_key(appointment.room_id) \
                    and stamped in room["booked"]:
                room["booked"].remove(stamped)


def build_problem(plans: list[CarePlan], *, start_dates: dict[int, date] | None = None,
                  preferred_providers: dict[int, dict[str, int]] | None = None,
                  patient_availability: dict[int, list[dict]] | None = None,
                  holds=(), own=(), hints: dict[int, list[dict]] | None = None,
                  not_before: datetime | None = None) -> dict:
    """The problem a proposal solves, built in one place: `problem_for_plans` of these plans, and

    start_dates: {plan id: date} care starts on for this proposal only (the plan itself changes only when
      the proposal is booked);
    preferred_providers, patient_availability: as problem_for_plans takes them;
    holds: the slots other open proposals hold, (provider id, patient id, starts_at, ends_at): busy time;
    own: a re-plan's movable appointments, taken out of the busy time (they are its hints);
    hints: {plan id: [hint(...), ...]}, the current appointments the optimizer keeps where it can;
    not_before: nothing new before this instant (the patients are busy from the horizon's start to it).
    All of it before `shortlist` and `compact`, which keep the hints' clinicians.
    """
    originals = {plan.id: plan.start_date for plan in plans}
    with db.session.no_autoflush:
        for plan in plans:
            plan.start_date = (start_dates or {}).get(plan.id) or plan.start_date
        try:
            document, busy = _problem(plans, preferred_providers=preferred_providers,
                                      patient_availability=patient_availability)
        finally:
            for plan in plans:
                plan.start_date = originals[plan.id]
    _add_busy(document, busy, holds)
    if not_before is not None:
        _not_before(document, busy, not_before)
    if own:
        _free_own(document, busy, own)
    for plan, entry in zip(plans, document["patients"]):
        if hints and hints.get(plan.id) is not None:
            entry["appointments"] = list(hints[plan.id])
    return compact(*shortlist(document, busy))


def compacted(document: dict) -> dict:
    """A copy of any problem document (its busy time in `time_off` and `booked`, as shared/scheduling-problem.md
    has it) carrying only what the solve can use, as `compact` makes the clinic's own."""
    import copy

    document = copy.deepcopy(document)

    tz = ZoneInfo(document["clinic"]["timezone"])

    def walls(intervals) -> list[tuple[datetime, datetime]]:
        return [(_wall_to_real(datetime.fromisoformat(i["start"]), tz),
                 _wall_to_real(datetime.fromisoformat(i["end"]), tz)) for i in intervals]

    busy = _Busy(reach=_reach(document),
                 providers={p["id"]: walls(p.get("time_off", []) + p.get("booked", [])) for p in document["providers"]},
                 patients={p["id"]: walls(p.get("booked", [])) for p in document["patients"]})
    return compact(document, busy)
