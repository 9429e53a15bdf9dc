"""A plan, the patient, the clinic's providers and their calendars as a scheduling problem (format v1,
shared/scheduling-problem.md): the plain data the optimizer reads.

Ids in the document are "provider-<id>" and "patient-<id>" (database ids); `provider_key`/`patient_key`
make them and `record_id` reads them back. Times are the clinic's local wall times, converted from the
stored UTC instants through the clinic's zone, so a daylight-saving change lands on the right hour.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from careplan.clinic.models import Discipline
from careplan.clinic.service import DAYS, effective_settings, timezone_name, zone
from careplan.errors import Invalid
from careplan.extensions import db
from careplan.plans.models import CarePlan
from careplan.providers.models import WITH_CALENDAR, Provider
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


def _busy(column, ids: list[int], window: tuple[datetime, datetime]) -> dict[int, list[dict]]:
    """Every appointment that is not cancelled, by provider or patient, inside the horizon."""
    rows = db.session.scalars(select(Appointment).where(
        column.in_(ids), Appointment.status != "cancelled",
        overlapping(Appointment, window[0], window[1])).order_by(Appointment.starts_at))
    found: dict[int, list[dict]] = {}
    for row in rows:
        found.setdefault(getattr(row, column.key), []).append(wall_interval(row.starts_at, row.ends_at))
    return found


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
    Every active provider of a discipline the plans need is offered, with their weekly hours, time off
    and appointments as `booked`; each patient's other appointments are `booked` on their side.
    """
    if not plans:
        raise Invalid("Give at least one plan.", fields={"plans": "empty"})
    patients = [plan.patient_id for plan in plans]
    if len(set(patients)) != len(patients):
        raise Invalid("One plan per patient in a problem.", fields={"plans": "a patient appears twice"})
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
    # One query per relationship for all providers, not one per provider.
    providers = list(db.session.scalars(
        select(Provider)
        .where(Provider.active.is_(True), Provider.disciplines.any(Discipline.code.in_(needed)))
        .order_by(Provider.id)
        .options(*WITH_CALENDAR)))
    provider_ids = [p.id for p in providers]
    provider_busy = _busy(Appointment.provider_id, provider_ids, window)
    patient_busy = _busy(Appointment.patient_id, patients, window)

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
             "weekly": _weekly_at(p.availability, locations) if locations else _weekly(p.availability),
             "time_off": [wall_interval(t.starts_at, t.ends_at) for t in p.time_off
                          if t.starts_at < window[1] and t.ends_at > window[0]],
             "booked": provider_busy.get(p.id, [])}
            for p in providers],
        "patients": [],
    }
    offered = {p.id: set(p.discipline_codes) for p in providers}
    for plan in plans:
        overrides = (preferred_providers or {}).get(plan.id, {})
        required = {m.discipline_code: m.provider_id for m in plan.care_team
                    if m.required and m.discipline_code not in overrides}
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
            "booked": patient_busy.get(plan.patient_id, []),
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
        gone = {d: p for d, p in required.items() if d not in offered.get(p, set())}
        if gone:
            # Never quietly given to someone else: the front desk chooses again.
            discipline = sorted(gone)[0]
            raise Invalid(f"The care team requires provider {gone[discipline]} for {discipline} in plan {plan.id}, "
                          "who no longer takes it; choose another clinician.",
                          fields={f"care_team.{discipline}": "required provider is not available"})
        if required:
            document["patients"][-1]["required_providers"] = {
                discipline: provider_key(provider_id) for discipline, provider_id in sorted(required.items())}
    if locations:
        document["clinic"]["locations"] = locations
    if rooms:
        document["rooms"] = rooms
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


def _add_busy(document: dict, holds) -> None:
    """Holds of other open proposals, (provider id, patient id, starts_at, ends_at[, room id]), are busy time
    (the room's too, when the hold has one)."""
    providers = {p["id"]: p for p in document["providers"]}
    patients = {p["id"]: p for p in document["patients"]}
    rooms = {r["id"]: r for r in document.get("rooms", [])}
    for provider_id, patient_id, starts_at, ends_at, *room in holds:
        interval = wall_interval(starts_at, ends_at)
        if room and room[0] is not None and room_key(room[0]) in rooms:
            rooms[room_key(room[0])]["booked"].append(interval)
        if provider_key(provider_id) in providers:
            providers[provider_key(provider_id)].setdefault("booked", []).append(interval)
        if patient_key(patient_id) in patients:
            patients[patient_key(patient_id)]["booked"].append(interval)


def _not_before(document: dict, now: datetime) -> None:
    """Nothing new lands in the past: each patient is busy from the horizon's start until `now` (rounded up
    to the clinic's grid)."""
    slot = document["clinic"]["slot_minutes"]
    local = now.astimezone(zone())
    minutes = -(-(local.hour * 60 + local.minute + (1 if local.second or local.microsecond else 0)) // slot) * slot
    until = datetime.combine(local.date(), time(0)) + timedelta(minutes=minutes)
    horizon = date.fromisoformat(document["clinic"]["horizon"]["start"])
    if until > datetime.combine(horizon, time(0)):
        for patient in document["patients"]:
            patient["booked"].append({"start": f"{horizon.isoformat()}T00:00", "end": until.strftime("%Y-%m-%dT%H:%M")})


def _free_own(document: dict, own) -> None:
    """problem_for_plans lists every appointment as busy; a re-plan's own movable ones are hints instead."""
    providers = {p["id"]: p for p in document["providers"]}
    patient = document["patients"][0]
    for appointment in own:
        interval = wall_interval(appointment.starts_at, appointment.ends_at)
        if interval in patient["booked"]:
            patient["booked"].remove(interval)
        provider = providers.get(provider_key(appointment.provider_id))
        if provider is not None and interval in provider.get("booked", []):
            provider["booked"].remove(interval)
        for room in document.get("rooms", []):
            if appointment.room_id is not None and room["id"] == room_key(appointment.room_id) \
                    and interval in room["booked"]:
                room["booked"].remove(interval)


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
    """
    originals = {plan.id: plan.start_date for plan in plans}
    with db.session.no_autoflush:
        for plan in plans:
            plan.start_date = (start_dates or {}).get(plan.id) or plan.start_date
        try:
            document = problem_for_plans(plans, preferred_providers=preferred_providers,
                                         patient_availability=patient_availability)
        finally:
            for plan in plans:
                plan.start_date = originals[plan.id]
    _add_busy(document, holds)
    if not_before is not None:
        _not_before(document, not_before)
    if own:
        _free_own(document, own)
    for plan, entry in zip(plans, document["patients"]):
        if hints and hints.get(plan.id) is not None:
            entry["appointments"] = list(hints[plan.id])
    return document
