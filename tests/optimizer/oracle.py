"""An independent second formulation: a MIP solved level by level with HiGHS.

It shares nothing with the CP-SAT model: it reads the problem JSON itself,
enumerates every (provider, grid start) of each demand by brute force over
each day of the plan week, states the rules pairwise, models visits,
continuity, idle time (first start / last end with big-M) and the first
day its own way, and solves the objectives one after another, fixing each
optimum before the next. On small instances its optimum must equal what
CP-SAT claims as OPTIMAL.

Of the contract's optional extensions it states required clinicians,
locations (one location a patient-day, windows per location) and rooms
(one candidate per room, capacity at every start); virtual sessions are
left out (a problem with a `mode` is refused here).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import highspy

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


class _Calendar:
    def __init__(self, problem: dict):
        self.zone = ZoneInfo(problem["clinic"]["timezone"])
        self.slot = problem["clinic"].get("slot_minutes", 15)
        self.first = dt.date.fromisoformat(problem["clinic"]["horizon"]["start"])
        self.last = self.first + dt.timedelta(weeks=problem["clinic"]["horizon"]["weeks"])

    def minute(self, wall: dt.datetime) -> int:
        utc = wall.replace(tzinfo=self.zone).astimezone(dt.timezone.utc)
        return int(utc.timestamp()) // 60

    def windows(self, weekly: list, day: dt.date, with_location: bool = False) -> list[tuple]:
        midnight = dt.datetime.combine(day, dt.time())
        return [(self.minute(midnight + dt.timedelta(minutes=_hm(w["start"]))),
                 self.minute(midnight + dt.timedelta(minutes=_hm(w["end"]))))
                + ((w.get("location"),) if with_location else ())
                for w in weekly if w["day"] == DAYS[day.weekday()]]

    def busy(self, intervals: list) -> list[tuple[int, int]]:
        return [(self.minute(dt.datetime.fromisoformat(i["start"])), self.minute(dt.datetime.fromisoformat(i["end"])))
                for i in intervals]

    def starts(self, day: dt.date) -> list[int]:
        midnight = dt.datetime.combine(day, dt.time())
        out = []
        for m in range(0, 1440, self.slot):
            wall = midnight + dt.timedelta(minutes=m)
            aware = wall.replace(tzinfo=self.zone)
            if aware.astimezone(dt.timezone.utc).astimezone(self.zone).replace(tzinfo=None) == wall:
                out.append(self.minute(wall))
        return out


def _demands(patient: dict) -> list[dict]:
    earliest = dt.date.fromisoformat(patient["earliest_start"])
    monday = earliest - dt.timedelta(days=earliest.weekday())
    out = []
    plan = patient["plan"]
    if plan.get("assessment"):
        assert "mode" not in plan["assessment"]
        out.append({"discipline": plan["assessment"]["discipline"], "minutes": plan["assessment"]["minutes"],
                    "count": 1, "gap": 0, "assessment": True, "days": None, "week": None,
                    "room_kind": plan["assessment"].get("room_kind")})
    week0 = 0
    for phase in plan["phases"]:
        for week in range(week0, week0 + phase["weeks"]):
            for line in phase["sessions"]:
                if (week - week0) % line.get("every_weeks", 1) == 0:
                    first = monday + dt.timedelta(weeks=week)
                    assert "mode" not in line
                    out.append({"discipline": line["discipline"], "minutes": line["minutes"],
                                "count": line["per_week"], "gap": line.get("min_gap_days", 1),
                                "assessment": False, "week": week, "room_kind": line.get("room_kind"),
                                "days": [first + dt.timedelta(days=i) for i in range(7)]})
        week0 += phase["weeks"]
    return out


def lexicographic_optimum(problem: dict, sessions: dict | None = None) -> tuple[int, ...]:
    """(scheduled, visits, continuity breaks, idle minutes, days to first, preference misses).

    With `sessions` ({(patient index, plan week or None for the assessment,
    discipline): count}), exactly those sessions are booked, so the visits
    figure is the fewest any valid schedule of them needs.
    """
    cal = _Calendar(problem)
    transition = problem.get("rules", {}).get("transition_minutes", 0)
    max_wait = problem.get("rules", {}).get("max_wait_minutes")
    providers = problem["providers"]
    pbusy = {p["id"]: cal.busy(p.get("time_off", []) + p.get("booked", [])) for p in providers}
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    rooms = problem.get("rooms", [])
    room_off = {r["id"]: cal.busy(r.get("time_off", [])) for r in rooms}
    cands = []  # (patient, demand index, provider, start, end, date, assessment, discipline, gap, var, room, place)
    group_vars: dict[tuple[int, int], list] = {}
    counts = {}
    booked: dict[tuple, list] = {}
    for pi, patient in enumerate(problem["patients"]):
        earliest = dt.date.fromisoformat(patient["earliest_start"])
        own_busy = cal.busy(patient.get("booked", []))
        horizon_days = [cal.first + dt.timedelta(days=i) for i in range((cal.last - cal.first).days)]
        for di, demand in enumerate(_demands(patient)):
            counts[pi, di] = demand["count"]
            days = demand["days"] or horizon_days
            for day in days:
                if not (cal.first <= day < cal.last) or day < earliest:
                    continue
                mine = cal.windows(patient["availability"], day)
                required = patient.get("required_providers", {}).get(demand["discipline"])
                for provider in providers:
                    if demand["discipline"] not in provider["disciplines"]:
                        continue
                    if required is not None and provider["id"] != required:
                        continue
                    theirs = cal.windows(provider["weekly"], day, with_location=True)
                    for start in cal.starts(day):
                        end = start + demand["minutes"]
                        if not any(a <= start and end <= b for a, b in mine):
                            continue
                        places = [loc for a, b, loc in theirs if a <= start and end <= b]
                        if not places:
                            continue
                        place = places[0]
                        if place is not None and place not in patient.get("locations", [place]):
                            continue
                        if any(a < end and start < b for a, b in pbusy[provider["id"]] + own_busy):
                            continue
                        held = [None] if demand["room_kind"] is None else [
                            r["id"] for r in rooms
                            if r["kind"] == demand["room_kind"] and r["location"] == place
                            and not any(a < end and start < b for a, b in room_off[r["id"]])]
                        for room in held:
                            var = h.addBinary()
                            cands.append((pi, di, provider["id"], start, end, day, demand["assessment"],
                                          demand["discipline"], demand["gap"], var, room, place))
                            group_vars.setdefault((pi, di), []).append(var)
                            booked.setdefault((pi, demand["week"], demand["discipline"]), []).append(var)
    for key, variables in group_vars.items():
        h.addConstr(sum(variables) <= counts[key])
    if sessions is not None:
        for key, variables in booked.items():
            h.addConstr(sum(variables) == sessions.get(key, 0))
    by_patient_day: dict[tuple[int, dt.date], list] = {}
    for c in cands:
        by_patient_day.setdefault((c[0], c[5]), []).append(c)
    # Pairwise rules between two candidates of one patient.
    for i, a in enumerate(cands):
        for b in cands[i + 1:]:
            if a[2] == b[2] and a[3] < b[4] and b[3] < a[4] and a[0] != b[0]:
                h.addConstr(a[9] + b[9] <= 1)
            if a[0] != b[0]:
                continue
            if a[5] == b[5] and a[3] < b[4] + transition and b[3] < a[4] + transition:
                h.addConstr(a[9] + b[9] <= 1)
            if not a[6] and not b[6] and a[7] == b[7] and abs((a[5] - b[5]).days) < max(a[8], b[8]):
                h.addConstr(a[9] + b[9] <= 1)
            if a[5] == b[5] and a[11] != b[11]:
                h.addConstr(a[9] + b[9] <= 1)  # one location a day
    # Rooms: at each start, the candidates holding the room then, and its bookings, within its capacity.
    for room in rooms:
        mine = [c for c in cands if c[10] == room["id"]]
        outside = cal.busy(room.get("booked", []))
        for t in sorted({c[3] for c in mine} | {a for a, _ in outside}):
            covering = [c[9] for c in mine if c[3] <= t < c[4]]
            left = room.get("capacity", 1) - sum(1 for a, b in outside if a <= t < b)
            if len(covering) > max(left, 0):
                h.addConstr(sum(covering) <= max(left, 0))
    # Assessment first: a treatment needs an assessment that ended before it.
    for c in cands:
        if c[6]:
            continue
        patient = problem["patients"][c[0]]
        if patient["plan"].get("assessment"):
            before = [a[9] for a in cands if a[0] == c[0] and a[6] and a[4] <= c[3]]
            h.addConstr(c[9] <= sum(before) if before else c[9] <= 0)
    visits, idle_terms = [], []
    for (pi, _), items in by_patient_day.items():
        cap = problem["patients"][pi].get("max_sessions_per_day")
        if cap is not None:
            h.addConstr(sum(c[9] for c in items) <= cap)
        if max_wait is not None:
            for c in items:
                for q in items:
                    if q[4] < c[3] - max_wait:
                        between = [w[9] for w in items if c[3] - max_wait <= w[4] <= c[3] - transition]
                        h.addConstr(c[9] + q[9] - 1 <= sum(between) if between else c[9] + q[9] <= 1)
        v = h.addBinary()
        for c in items:
            h.addConstr(v >= c[9])
        visits.append(v)
        low = min(c[3] for c in items)
        high = max(c[4] for c in items)
        big = high - low
        first = h.addVariable(lb=low, ub=high)
        last = h.addVariable(lb=low, ub=high)
        for c in items:
            h.addConstr(first <= c[3] + big * (1 - c[9]))
            h.addConstr(last >= c[4] - big * (1 - c[9]))
        h.addConstr(last >= first)
        n = sum(c[9] for c in items)
        idle = last - first - sum((c[4] - c[3]) * c[9] for c in items) - transition * n + transition * v
        h.addConstr(idle >= 0)
        idle_terms.append(idle)
    breaks = []
    seen: dict[tuple[int, str], dict[str, list]] = {}
    for c in cands:
        seen.setdefault((c[0], c[7]), {}).setdefault(c[2], []).append(c[9])
    for per_provider in seen.values():
        flags = []
        for variables in per_provider.values():
            u = h.addBinary()
            for var in variables:
                h.addConstr(u >= var)
            flags.append(u)
        anyone = h.addBinary()
        h.addConstr(anyone <= sum(flags))
        breaks.append(sum(flags) - anyone)
    firsts = []
    for pi, patient in enumerate(problem["patients"]):
        mine = [c for c in cands if c[0] == pi]
        if not mine:
            continue
        earliest = dt.date.fromisoformat(patient["earliest_start"])
        days = sorted({c[5] for c in mine})
        pick = {d: h.addBinary() for d in days}
        any_booked = h.addBinary()
        for c in mine:
            h.addConstr(any_booked >= c[9])
        h.addConstr(sum(pick.values()) == any_booked)
        first_day = sum((d - earliest).days * z for d, z in pick.items())
        span = (days[-1] - earliest).days + 1
        for c in mine:
            h.addConstr(first_day <= (c[5] - earliest).days + span * (1 - c[9]))
        for d, z in pick.items():
            h.addConstr(z <= sum(c[9] for c in mine if c[5] == d))
        firsts.append(first_day)
    misses = []
    for c in cands:
        wanted = problem["patients"][c[0]].get("preferred_providers", {}).get(c[7])
        if wanted is not None and wanted != c[2]:
            misses.append(c[9])
    levels = [-sum(c[9] for c in cands), sum(visits), sum(breaks), sum(idle_terms), sum(firsts), sum(misses)]
    values = []
    for level in levels:
        if isinstance(level, (int, float)):
            values.append(int(level))
            continue
        h.minimize(level)
        value = round(h.getInfo().objective_function_value)
        values.append(value)
        h.addConstr(level <= value)
    values[0] = -values[0]
    return tuple(values)
