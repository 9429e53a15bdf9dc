"""Rooms, locations and virtual sessions (the contract's optional extensions).

Each rule is shown on a case where breaking it would pay (more sessions,
fewer trips, earlier care), then shown needed: with the rule taken out of
the CP-SAT model the optimised schedule breaks it, the independent checker
says so and the runner falls back to first-available. A problem without the
extensions solves exactly as before.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from careplan.optimizer import check, solve, validate
from careplan.optimizer import resources
from careplan.optimizer.demand import Option
from careplan.optimizer.generator import generate, with_resources
from careplan.optimizer.problem import parse
from careplan.optimizer.space import Space

from .builders import line, patient, problem, provider, solved, window
from .oracle import lexicographic_optimum

SAMPLES = Path(__file__).resolve().parents[2] / "bench" / "samples"
MON_TUE = [window(d, "08:00", "12:00") for d in ("mon", "tue")]


def at(windows: list[dict], location: str) -> list[dict]:
    return [dict(w, location=location) for w in windows]


def located(doc: dict, *locations: str, rooms: list[dict] | None = None) -> dict:
    doc["clinic"]["locations"] = [{"id": loc, "name": loc.title()} for loc in locations]
    if rooms is not None:
        doc["rooms"] = rooms
    return doc


def one_table_clinic() -> dict:
    """Two massage therapists, one table, two patients who can only come Monday 08:00-09:00 (one of them
    also on Tuesday): without the room rule both would be booked Monday at 08:00."""
    return located(problem(
        [provider("mt-1", ["massage"], at(MON_TUE, "east")), provider("mt-2", ["massage"], at(MON_TUE, "east"))],
        [patient("a", [window("mon", "08:00", "09:00"), window("tue", "08:00", "12:00")],
                 [line("massage", room_kind="table")]),
         patient("b", [window("mon", "08:00", "09:00")], [line("massage", room_kind="table")])]),
        "east", rooms=[{"id": "table-1", "location": "east", "kind": "table", "capacity": 1}])


def test_a_room_is_held_by_one_appointment_at_a_time():
    solution = solved(one_table_clinic())
    assert solution["metrics"]["scheduled"] == 2
    placed = {a["patient"]: a for a in solution["appointments"]}
    assert placed["b"]["start"].startswith("2027-01-04T08:00")
    assert placed["a"]["start"].startswith("2027-01-05")  # moved a day: the table is taken on Monday
    assert {a["room"] for a in placed.values()} == {"table-1"}
    assert {(a["mode"], a["location"]) for a in placed.values()} == {("in_person", "east")}


def test_capacity_counts_and_room_bookings_take_their_place():
    doc = one_table_clinic()
    doc["patients"][0]["availability"] = [window("mon", "08:00", "09:00")]
    doc["rooms"][0]["capacity"] = 2
    both = solved(doc)
    assert both["metrics"]["scheduled"] == 2  # two at once in a room for two
    doc["rooms"][0]["booked"] = [{"start": "2027-01-04T08:30", "end": "2027-01-04T09:30"}]
    one = solved(doc)
    assert one["metrics"]["scheduled"] == 1
    assert "table" in one["unscheduled"][0]["reason"]


def test_room_time_off_and_no_room_of_the_kind():
    doc = one_table_clinic()
    doc["rooms"][0]["time_off"] = [{"start": "2027-01-04T00:00", "end": "2027-01-06T00:00"}]
    solution = solved(doc)
    assert solution["appointments"] == []
    doc["rooms"][0]["kind"] = "gym"
    solution = solved(doc)
    assert all("needs a table room and there is none" in u["reason"] for u in solution["unscheduled"])


def _without(monkeypatch, rule: str) -> None:
    monkeypatch.setattr(resources, rule, lambda model: None)


def test_dropping_the_room_rule_breaks_the_schedule(monkeypatch):
    doc = one_table_clinic()
    _without(monkeypatch, "state_rooms")
    solution = solve(doc, time_limit=5, deterministic=True)
    # The optimiser alone would double-book the table (both on Monday); the checker refuses that schedule.
    assert solution["method"] == "first-available"
    assert not check(doc, solution)


def two_location_clinic() -> dict:
    """Physiotherapy at East, massage at West, both on Monday morning: one trip only if on different days."""
    return located(problem(
        [provider("pt", ["physiotherapy"], at([window("mon", "08:00", "12:00")], "east")
                  + at([window("tue", "08:00", "12:00")], "west")),
         provider("mt", ["massage"], at([window("mon", "08:00", "12:00")], "west")
                  + at([window("wed", "08:00", "12:00")], "east"))],
        [patient("p", [window(d, "08:00", "12:00") for d in ("mon", "tue", "wed")],
                 [line("physiotherapy"), line("massage")])]),
        "east", "west")


def test_a_patients_in_person_day_is_at_one_location():
    solution = solved(two_location_clinic())
    days = {a["start"][:10]: a["location"] for a in solution["appointments"]}
    assert solution["metrics"]["scheduled"] == 2
    by_day: dict[str, set] = {}
    for a in solution["appointments"]:
        by_day.setdefault(a["start"][:10], set()).add(a["location"])
    assert all(len(places) == 1 for places in by_day.values())
    # Monday would have held both (one visit) at two locations; the best is two trips, starting Monday.
    assert solution["metrics"]["visits"] == 2 and "2027-01-04" in days


def test_dropping_the_location_rule_breaks_the_schedule(monkeypatch):
    doc = two_location_clinic()
    _without(monkeypatch, "state_locations")
    solution = solve(doc, time_limit=5, deterministic=True)
    assert solution["method"] == "first-available"
    assert not check(doc, solution)


def test_patients_locations_and_windows_per_location():
    doc = two_location_clinic()
    doc["patients"][0]["locations"] = ["west"]
    solution = solved(doc)
    assert {a["location"] for a in solution["appointments"]} == {"west"}
    physio = next(a for a in solution["appointments"] if a["discipline"] == "physiotherapy")
    assert physio["start"].startswith("2027-01-05")  # the physiotherapist is at West on Tuesdays only


def video_clinic(accepts: bool, mode: str) -> dict:
    """Psychotherapy Tuesday only, physiotherapy Monday only: by video, psychotherapy makes no trip."""
    return problem(
        [provider("pt", ["physiotherapy"], [window("mon", "08:00", "12:00")]),
         provider("psy", ["psychotherapy"], [window("tue", "08:00", "12:00")])],
        [dict(patient("p", MON_TUE, [line("physiotherapy"), line("psychotherapy", mode=mode)]),
              accepts_virtual=accepts)])


def test_a_virtual_session_is_not_a_trip():
    solution = solved(video_clinic(True, "either"))
    modes = {a["discipline"]: (a["mode"], a["location"], a["room"]) for a in solution["appointments"]}
    assert modes == {"physiotherapy": ("in_person", None, None), "psychotherapy": ("virtual", None, None)}
    assert solution["metrics"]["visits"] == 1
    assert solution["metrics"]["visits_lower_bound"] <= 1


def test_either_is_in_person_without_consent_and_virtual_needs_consent():
    in_person = solved(video_clinic(False, "either"))
    assert {a["mode"] for a in in_person["appointments"]} == {"in_person"}
    assert in_person["metrics"]["visits"] == 2
    refused = solved(video_clinic(False, "virtual"))
    reason = next(u["reason"] for u in refused["unscheduled"] if u["discipline"] == "psychotherapy")
    assert "does not accept virtual sessions" in reason


def test_a_virtual_session_keeps_the_transition_but_not_the_waiting_limit():
    # Physiotherapy 08:00 and 11:00 in person would wait 120 min (limit 60); a video session between them
    # does not make the wait acceptable, and it keeps 10 minutes from both.
    doc = problem(
        [provider("pt", ["physiotherapy"], [window("mon", "08:00", "09:00")]),
         provider("kin", ["kinesiology"], [window("mon", "11:00", "12:00")]),
         provider("psy", ["psychotherapy"], [window("mon", "08:00", "12:00")])],
        [dict(patient("p", [window("mon", "08:00", "12:00")],
                      [line("physiotherapy"), line("kinesiology"), line("psychotherapy", mode="virtual")]),
              accepts_virtual=True)])
    solution = solved(doc)
    assert solution["metrics"]["scheduled"] == 2
    psy = next(a for a in solution["appointments"] if a["discipline"] == "psychotherapy")
    other = next(a for a in solution["appointments"] if a["discipline"] != "psychotherapy")
    assert psy["mode"] == "virtual"
    assert psy["start"] >= other["end"] or other["start"] >= psy["end"]


@pytest.mark.parametrize("edit, expected", [
    (lambda s: s["appointments"][1].update(room="table-9"), "needs a table room and holds none"),
    (lambda s: s["appointments"][1].update(room=None), "needs a table room and holds none"),
    (lambda s: s["appointments"][1].update(location="west"), "needs one of the clinic's locations"),
    (lambda s: s["appointments"][1].update(mode="virtual", location=None, room=None), "does not accept virtual"),
])
def test_checker_catches_broken_room_rules(edit, expected):
    doc = one_table_clinic()
    solution = solved(doc)
    solution["appointments"].sort(key=lambda a: a["patient"])
    edit(solution)
    assert any(expected in fault for fault in check(doc, solution)), check(doc, solution)


def test_checker_catches_an_overfull_room_and_two_locations_a_day():
    doc = one_table_clinic()
    solution = solved(doc)
    a = next(x for x in solution["appointments"] if x["patient"] == "a")
    a.update(start="2027-01-04T08:00:00-05:00", end="2027-01-04T09:00:00-05:00")
    assert any("held by 2 at once" in f for f in check(doc, solution))
    doc = two_location_clinic()
    solution = solved(doc)
    massage = next(x for x in solution["appointments"] if x["discipline"] == "massage")
    massage.update(start="2027-01-04T10:00:00-05:00", end="2027-01-04T11:00:00-05:00", location="west")
    physio = next(x for x in solution["appointments"] if x["discipline"] == "physiotherapy")
    physio.update(start="2027-01-04T08:00:00-05:00", end="2027-01-04T09:00:00-05:00", location="east")
    assert any("at 2 locations" in f for f in check(doc, solution))


@pytest.mark.parametrize("name", ["tiny", "one-plan"])
def test_a_problem_without_the_extensions_solves_exactly_as_before(name):
    doc = json.loads((SAMPLES / f"{name}.json").read_text())
    plain = solve(doc, time_limit=10, deterministic=True)
    assert all(set(a) == {"patient", "provider", "discipline", "kind", "phase", "week", "start", "end"}
               for a in plain["appointments"])
    # One location everywhere, no rooms: the same rules, so the same schedule, now saying where.
    one_place = located(copy.deepcopy(doc), "main")
    for p in one_place["providers"]:
        p["weekly"] = at(p["weekly"], "main")
    same = solve(one_place, time_limit=10, deterministic=True)
    strip = lambda s: [{k: a[k] for k in ("patient", "provider", "start", "end")} for a in s["appointments"]]  # noqa: E731
    assert strip(same) == strip(plain)
    assert {a["location"] for a in same["appointments"]} == {"main"}
    assert {k: v for k, v in same["metrics"].items()} == plain["metrics"]


def test_the_oracle_agrees_on_a_small_clinic_with_rooms_and_two_locations():
    doc = with_resources(generate(34, providers=7, patients=2, weeks=2, booked=0.6), seed=34, locations=2,
                         tables=1, virtual=False)
    assert not validate(doc)
    solution = solved(doc, time_limit=30)
    assert solution["status"] == "OPTIMAL"
    figures = ("scheduled", "visits", "continuity_breaks", "idle_minutes", "days_to_first", "preference_misses")
    assert tuple(solution["metrics"][name] for name in figures) == lexicographic_optimum(doc)


def test_generated_room_bound_clinic_is_valid_and_uses_its_rooms():
    doc = with_resources(generate(8, providers=12, patients=4, weeks=4, booked=0.5), seed=8, locations=2, tables=1)
    solution = solve(doc, time_limit=10, deterministic=True)
    assert not check(doc, solution)
    assert solution["method"] == "cp-sat"
    assert any(a["room"] for a in solution["appointments"])
    assert {a["location"] for a in solution["appointments"] if a["mode"] == "in_person"} <= {"east", "west"}


def test_a_re_plan_keeps_current_appointments_that_hold_a_room():
    """Found in use: re-planning one session of Linh's plan (her clinician off sick) moved 11 of her 12 booked
    sessions at a clinic with rooms: a current appointment was read without its location and room, so no
    option of the model was ever it, and keeping it was impossible."""
    doc = one_table_clinic()
    first = solved(copy.deepcopy(doc))
    for entry in doc["patients"]:
        entry["appointments"] = [
            {"provider": a["provider"], "discipline": a["discipline"], "kind": a["kind"], "phase": a["phase"],
             "week": a["week"], "start": a["start"][:16], "room": a["room"], "fixed": False}
            for a in first["appointments"] if a["patient"] == entry["id"]]
    # Each current appointment is one of the model's options: the same room and location.
    space = Space(parse(doc))
    assert [(b.room, b.location) for _, _, b in space.hints] == [(0, 0), (0, 0)]
    assert all(Option(*b[1:]) in space.options(b.demand) for _, _, b in space.hints)
    again = solved(doc)
    assert again["metrics"]["moved"] == 0 and again["metrics"]["scheduled"] == 2
    assert {a["rebooking"] for a in again["appointments"]} == {"kept"}
