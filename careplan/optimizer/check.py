"""An independent checker of a solution against its problem.

Written from the contract alone (it shares no code with the model, the
options or the baseline): it reads both JSON documents, works on aware
datetimes, and lists every hard rule the solution breaks, every demand it
fails to account for, and every metric that does not match the schedule.
Tests and the benchmark run every schedule through it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class _Zone:
    def __init__(self, name: str):
        self.zone = ZoneInfo(name)
        self._intervals: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}

    def intervals(self, dated: list) -> list[tuple[dt.datetime, dt.datetime]]:
        """A calendar's dated intervals as instants, read once per calendar."""
        key = id(dated)
        if key not in self._intervals:
            self._intervals[key] = [(self.instant(_local(i["start"])), self.instant(_local(i["end"]))) for i in dated]
        return self._intervals[key]

    def instant(self, wall: dt.datetime) -> dt.datetime:
        """The real instant of a local wall time (first occurrence if repeated)."""
        return wall.replace(tzinfo=self.zone, fold=0).astimezone(dt.timezone.utc)

    def window(self, day: dt.date, start: str, end: str) -> tuple[dt.datetime, dt.datetime]:
        midnight = dt.datetime.combine(day, dt.time())
        return (self.instant(midnight + dt.timedelta(minutes=_hm(start))),
                self.instant(midnight + dt.timedelta(minutes=_hm(end))))


def _within_weekly(zone: _Zone, windows: list, day: dt.date, start, end, location: str | None = None) -> bool:
    """Inside one weekly window (at that location, when one is given)."""
    name = DAYS[day.weekday()]
    for window in windows:
        if window["day"] == name and (location is None or window.get("location") == location):
            low, high = zone.window(day, window["start"], window["end"])
            if low <= start and end <= high:
                return True
    return False


def _overlaps_any(zone: _Zone, intervals: list, start, end) -> bool:
    return any(low < end and start < high for low, high in zone.intervals(intervals))


def _plan(patient: dict) -> tuple[dict, dict]:
    """Plan week -> {discipline: line}, and phase name by plan week."""
    lines: dict[int, dict[str, dict]] = {}
    phase_of: dict[int, str] = {}
    first = 0
    for phase in patient["plan"]["phases"]:
        for week in range(first, first + phase["weeks"]):
            phase_of[week] = phase["name"]
            lines[week] = {
                line["discipline"]: line
                for line in phase["sessions"]
                if (week - first) % line.get("every_weeks", 1) == 0
            }
        first += phase["weeks"]
    return lines, phase_of


def check(problem: dict, solution: dict) -> list[str]:
    """Every broken rule, unaccounted demand and wrong metric; empty when valid."""
    errors, counts = _rules(problem, solution["appointments"], partial=False)
    patients = {p["id"]: p for p in problem["patients"]}
    plans = {pid: _plan(p) for pid, p in patients.items()}
    errors.extend(_accounting(patients, plans, counts, solution))
    errors.extend(_fixed_kept(problem, solution, _Zone(problem["clinic"]["timezone"])))
    expected = metrics_of(problem, solution)
    reported = solution.get("metrics", {})
    for name, value in expected.items():
        if reported.get(name) != value:
            errors.append(f"metrics.{name}: reported {reported.get(name)}, the schedule gives {value}")
    if reported.get("visits_lower_bound", 0) > expected["visits"]:
        errors.append("metrics.visits_lower_bound: exceeds the visits of a valid schedule")
    return errors


def rule_violations(problem: dict, appointments: list[dict]) -> list[str]:
    """The hard rules a partial set of appointments breaks (a re-plan's fixed ones).

    A partial set may lack the assessment (it is booked around them), so that
    rule only applies to the order of what is there.
    """
    return _rules(problem, appointments, partial=True)[0]


def _rules(problem: dict, appointments: list[dict], partial: bool) -> tuple[list[str], dict]:
    errors: list[str] = []
    zone = _Zone(problem["clinic"]["timezone"])
    slot = problem["clinic"].get("slot_minutes", 15)
    horizon_start = dt.date.fromisoformat(problem["clinic"]["horizon"]["start"])
    horizon_end = horizon_start + dt.timedelta(weeks=problem["clinic"]["horizon"]["weeks"])
    rules = problem.get("rules", {})
    transition = rules.get("transition_minutes", 0)
    max_wait = rules.get("max_wait_minutes")
    providers = {p["id"]: p for p in problem["providers"]}
    patients = {p["id"]: p for p in problem["patients"]}
    plans = {pid: _plan(p) for pid, p in patients.items()}
    locations = {loc["id"] for loc in problem["clinic"].get("locations", [])}
    rooms = {room["id"]: room for room in problem.get("rooms", [])}

    by_patient: dict[str, list] = defaultdict(list)
    by_provider: dict[str, list] = defaultdict(list)
    by_room: dict[str, list] = defaultdict(list)
    counts: dict[tuple, int] = defaultdict(int)
    for n, appointment in enumerate(appointments):
        where = f"appointments[{n}]"
        patient = patients.get(appointment["patient"])
        provider = providers.get(appointment["provider"])
        if patient is None or provider is None:
            errors.append(f"{where}: unknown patient or provider")
            continue
        start = dt.datetime.fromisoformat(appointment["start"])
        end = dt.datetime.fromisoformat(appointment["end"])
        local_start = start.astimezone(zone.zone)
        if start.utcoffset() != local_start.utcoffset() or end.utcoffset() != end.astimezone(zone.zone).utcoffset():
            errors.append(f"{where}: UTC offset is not the clinic's offset at that time")
        day = local_start.date()
        discipline = appointment["discipline"]
        if discipline not in provider["disciplines"]:
            errors.append(f"{where}: {provider['id']} does not practise {discipline}")
        required = patient.get("required_providers", {}).get(discipline)
        if required is not None and required != provider["id"]:
            errors.append(f"{where}: {discipline} of {patient['id']} is {required}'s alone (required), "
                          f"not {provider['id']}'s")
        lines, phase_of = plans[patient["id"]]
        assessment = patient["plan"].get("assessment")
        if appointment["kind"] == "assessment":
            if not assessment or assessment["discipline"] != discipline:
                errors.append(f"{where}: the plan has no {discipline} assessment")
                continue
            minutes, line = assessment["minutes"], None
            key = (patient["id"], "assessment")
        else:
            week = appointment["week"]
            line = lines.get(week, {}).get(discipline)
            if line is None or phase_of.get(week) != appointment["phase"]:
                errors.append(f"{where}: plan week {week} of phase {appointment['phase']} asks for no {discipline}")
                continue
            minutes = line["minutes"]
            earliest = dt.date.fromisoformat(patient["earliest_start"])
            monday = earliest - dt.timedelta(days=earliest.weekday()) + dt.timedelta(weeks=week)
            if not monday <= day < monday + dt.timedelta(days=7):
                errors.append(f"{where}: not in the calendar week of plan week {week}")
            key = (patient["id"], week, discipline)
        counts[key] += 1
        if end - start != dt.timedelta(minutes=minutes):
            errors.append(f"{where}: lasts {end - start}, the plan says {minutes} minutes")
        if (local_start.hour * 60 + local_start.minute) % slot or local_start.second:
            errors.append(f"{where}: start is off the {slot}-minute grid")
        if not horizon_start <= day < horizon_end:
            errors.append(f"{where}: outside the horizon")
        if day < dt.date.fromisoformat(patient["earliest_start"]):
            errors.append(f"{where}: before the patient's earliest start")
        spec = assessment if line is None else line
        mode = appointment.get("mode", "in_person")
        location = appointment.get("location")
        room_id = appointment.get("room")
        if mode == "virtual":
            if spec.get("mode", "in_person") == "in_person":
                errors.append(f"{where}: held by video, but the plan says in person")
            if not patient.get("accepts_virtual", False):
                errors.append(f"{where}: held by video, but {patient['id']} does not accept virtual sessions")
            if location is not None or room_id is not None:
                errors.append(f"{where}: a virtual appointment has no location or room")
        elif mode == "in_person":
            if spec.get("mode", "in_person") == "virtual":
                errors.append(f"{where}: held in person, but the plan says by video only")
            if locations:
                if location not in locations:
                    errors.append(f"{where}: an in-person appointment needs one of the clinic's locations")
                elif location not in patient.get("locations", locations):
                    errors.append(f"{where}: {patient['id']} does not accept location {location}")
            elif location is not None:
                errors.append(f"{where}: names a location, but the clinic lists none")
            kind = spec.get("room_kind")
            room = rooms.get(room_id) if room_id is not None else None
            if kind is None and room_id is not None:
                errors.append(f"{where}: holds room {room_id}, but the plan needs no room")
            elif kind is not None and room is None:
                errors.append(f"{where}: needs a {kind} room and holds none")
            elif room is not None:
                if room["kind"] != kind or room["location"] != location:
                    errors.append(f"{where}: room {room_id} is not a {kind} room at {location}")
                if _overlaps_any(zone, room.get("time_off", []), start, end):
                    errors.append(f"{where}: room {room_id} is out of use then")
                by_room[room_id].append((start, end, where))
        else:
            errors.append(f"{where}: mode must be in_person or virtual")
        place = location if (mode == "in_person" and locations) else None
        if not _within_weekly(zone, provider["weekly"], day, start, end, place):
            errors.append(f"{where}: outside {provider['id']}'s weekly windows"
                          + (f" at {place}" if place else ""))
        if _overlaps_any(zone, provider.get("time_off", []), start, end) or _overlaps_any(
            zone, provider.get("booked", []), start, end
        ):
            errors.append(f"{where}: overlaps {provider['id']}'s time off or bookings")
        if not _within_weekly(zone, patient["availability"], day, start, end):
            errors.append(f"{where}: outside the patient's availability")
        if _overlaps_any(zone, patient.get("booked", []), start, end):
            errors.append(f"{where}: overlaps the patient's own bookings")
        record = (start, end, day, appointment, line, where)
        by_patient[patient["id"]].append(record)
        by_provider[provider["id"]].append(record)

    for provider_id, records in by_provider.items():
        records.sort(key=lambda r: r[0])
        for a, b in zip(records, records[1:]):
            if b[0] < a[1]:
                errors.append(f"{b[5]}: {provider_id} is already with a patient then ({a[5]})")

    for room_id, held in by_room.items():
        room = rooms[room_id]
        outside = zone.intervals(room.get("booked", []))
        for start, end, where in held:
            # The most holdings at once during this appointment (a peak is at some start).
            points = [start] + [s for s, _, _ in held if start < s < end] + [s for s, _ in outside if start < s < end]
            for t in points:
                load = sum(1 for s, e, _ in held if s <= t < e) + sum(1 for s, e in outside if s <= t < e)
                if load > room.get("capacity", 1):
                    errors.append(f"{where}: room {room_id} is held by {load} at once, more than its capacity "
                                  f"{room.get('capacity', 1)}")
                    break

    for patient_id, records in by_patient.items():
        patient = patients[patient_id]
        records.sort(key=lambda r: r[0])
        if patient["plan"].get("assessment"):
            firsts = [r for r in records if r[3]["kind"] == "assessment"]
            if not firsts and not partial:
                errors.append(f"patient {patient_id}: appointments booked without the assessment")
            elif any(r[0] < firsts[0][1] for r in records if r is not firsts[0]):
                errors.append(f"patient {patient_id}: an appointment starts before the assessment ends")
        days = defaultdict(list)
        for record in records:
            days[record[2]].append(record)
        cap = patient.get("max_sessions_per_day")
        for day, same_day in days.items():
            if cap is not None and len(same_day) > cap:
                errors.append(f"patient {patient_id}: {len(same_day)} sessions on {day}, more than {cap}")
            for a, b in zip(same_day, same_day[1:]):
                gap = (b[0] - a[1]).total_seconds() / 60
                if gap < transition:
                    errors.append(f"{b[5]}: starts {gap:g} min after the patient's previous one ends")
            trips = [r for r in same_day if r[3].get("mode", "in_person") != "virtual"]
            for a, b in zip(trips, trips[1:]):
                gap = (b[0] - a[1]).total_seconds() / 60
                if max_wait is not None and gap > max_wait:
                    errors.append(f"{b[5]}: {gap:g} min of waiting after the patient's previous session")
            places = {r[3].get("location") for r in trips}
            if len(places) > 1:
                errors.append(f"patient {patient_id}: in-person appointments at {len(places)} locations on {day}")
        treatments = [r for r in records if r[3]["kind"] == "treatment"]
        for i, a in enumerate(treatments):
            for b in treatments[i + 1:]:
                if a[3]["discipline"] != b[3]["discipline"]:
                    continue
                need = max(a[4].get("min_gap_days", 1), b[4].get("min_gap_days", 1))
                if abs((b[2] - a[2]).days) < need:
                    errors.append(f"{b[5]}: within {need} days of another {a[3]['discipline']} session ({a[5]})")

    return errors, counts


def _accounting(patients: dict, plans: dict, counts: dict, solution: dict) -> list[str]:
    errors = []
    missing: dict[tuple, int] = defaultdict(int)
    for entry in solution["unscheduled"]:
        if not entry.get("reason"):
            errors.append(f"unscheduled {entry}: no reason given")
        if entry.get("kind") == "assessment" or entry.get("week") is None:
            missing[entry["patient"], "assessment"] += 1
        else:
            missing[entry["patient"], entry["week"], entry["discipline"]] += 1
    for patient_id, patient in patients.items():
        lines, _ = plans[patient_id]
        asked = {}
        if patient["plan"].get("assessment"):
            asked[patient_id, "assessment"] = 1
        for week, by_discipline in lines.items():
            for discipline, line in by_discipline.items():
                asked[patient_id, week, discipline] = line["per_week"]
        for key, n in asked.items():
            if counts.get(key, 0) + missing.get(key, 0) != n:
                errors.append(f"{key}: plan asks {n}, booked {counts.get(key, 0)}, unscheduled {missing.get(key, 0)}")
        for key in set(counts) | set(missing):
            if key[0] == patient_id and key not in asked:
                errors.append(f"{key}: not a demand of the plan")
    return errors


def _fixed_kept(problem: dict, solution: dict, zone: _Zone) -> list[str]:
    booked = {
        (a["patient"], a["provider"], dt.datetime.fromisoformat(a["start"])) for a in solution["appointments"]
    }
    errors = []
    for patient in problem["patients"]:
        for i, current in enumerate(patient.get("appointments", [])):
            if current.get("fixed"):
                key = (patient["id"], current["provider"], zone.instant(_local(current["start"])))
                if key not in booked:
                    errors.append(f"patients[{patient['id']}].appointments[{i}]: fixed but not kept")
    return errors


def metrics_of(problem: dict, solution: dict) -> dict:
    """The contract's metrics, recomputed from the solution's appointments."""
    zone = ZoneInfo(problem["clinic"]["timezone"])
    transition = problem.get("rules", {}).get("transition_minutes", 0)
    patients = {p["id"]: p for p in problem["patients"]}
    per_day: dict[tuple, list] = defaultdict(list)
    providers: dict[tuple, set] = defaultdict(set)
    first: dict[str, dt.date] = {}
    misses = 0
    for a in solution["appointments"]:
        start = dt.datetime.fromisoformat(a["start"])
        day = start.astimezone(zone).date()
        if a.get("mode", "in_person") != "virtual":
            # Visits count trips; idle time is between the in-person appointments of one.
            per_day[a["patient"], day].append((start, dt.datetime.fromisoformat(a["end"])))
        providers[a["patient"], a["discipline"]].add(a["provider"])
        first[a["patient"]] = min(first.get(a["patient"], day), day)
        wanted = patients[a["patient"]].get("preferred_providers", {}).get(a["discipline"])
        if wanted is not None and wanted != a["provider"]:
            misses += 1
    idle = 0
    for times in per_day.values():
        times.sort()
        idle += sum(int((b[0] - a[1]).total_seconds() // 60) - transition for a, b in zip(times, times[1:]))
    demand = 0
    for patient in problem["patients"]:
        lines, _ = _plan(patient)
        demand += 1 if patient["plan"].get("assessment") else 0
        demand += sum(line["per_week"] for by in lines.values() for line in by.values())
    return {
        "demand": demand,
        "scheduled": len(solution["appointments"]),
        "visits": len(per_day),
        "continuity_breaks": sum(len(s) - 1 for s in providers.values()),
        "idle_minutes": idle,
        "days_to_first": sum(
            (day - dt.date.fromisoformat(patients[p]["earliest_start"])).days for p, day in first.items()
        ),
        "preference_misses": misses,
    }
