"""Small problem documents, written out in the clinic's terms, for rule tests."""

from __future__ import annotations

import copy

from careplan.optimizer import check, solve


def window(day: str, start: str, end: str) -> dict:
    return {"day": day, "start": start, "end": end}


def provider(pid: str, disciplines: list[str], weekly: list[dict], time_off=(), booked=()) -> dict:
    return {"id": pid, "disciplines": disciplines, "weekly": weekly,
            "time_off": [{"start": s, "end": e} for s, e in time_off],
            "booked": [{"start": s, "end": e} for s, e in booked]}


def line(discipline: str, per_week: int = 1, minutes: int = 60, **extra) -> dict:
    return {"discipline": discipline, "per_week": per_week, "minutes": minutes, **extra}


def patient(pid: str, availability: list[dict], sessions: list[dict], *, weeks: int = 1,
            earliest: str = "2027-01-04", assessment: dict | None = None, cap: int | None = None,
            booked=(), preferred: dict | None = None, appointments: list[dict] | None = None,
            required: dict | None = None) -> dict:
    doc = {"id": pid, "earliest_start": earliest, "availability": availability,
           "booked": [{"start": s, "end": e} for s, e in booked],
           "preferred_providers": preferred or {},
           "plan": {"phases": [{"name": "acute", "weeks": weeks, "sessions": sessions}]}}
    if assessment:
        doc["plan"]["assessment"] = assessment
    if cap is not None:
        doc["max_sessions_per_day"] = cap
    if appointments is not None:
        doc["appointments"] = appointments
    if required is not None:
        doc["required_providers"] = required
    return doc


def problem(providers: list[dict], patients: list[dict], *, weeks: int = 1, start: str = "2027-01-04",
            transition: int = 10, max_wait: int | None = 60, slot: int = 15,
            timezone: str = "America/Toronto") -> dict:
    rules = {"transition_minutes": transition}
    if max_wait is not None:
        rules["max_wait_minutes"] = max_wait
    return {"version": 1,
            "clinic": {"timezone": timezone, "slot_minutes": slot, "horizon": {"start": start, "weeks": weeks}},
            "rules": rules, "providers": providers, "patients": patients}


def solved(doc: dict, time_limit: float = 10.0) -> dict:
    """Solve deterministically and insist the independent checker accepts the result."""
    original = copy.deepcopy(doc)
    solution = solve(doc, time_limit=time_limit, deterministic=True)
    assert doc == original, "solve must not modify the problem document"
    faults = check(doc, solution)
    assert not faults, faults
    assert solution["method"] == "cp-sat", "the optimised schedule failed the check and was replaced"
    return solution


def times(solution: dict, discipline: str | None = None) -> list[tuple[str, str]]:
    return sorted((a["start"], a["end"]) for a in solution["appointments"]
                  if discipline is None or a["discipline"] == discipline)
