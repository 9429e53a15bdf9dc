"""Re-planning around current appointments: fixed ones stay, hinted ones move only if they must."""

from __future__ import annotations

import pytest

from careplan.optimizer import ProblemError, solve

from .builders import line, patient, problem, provider, solved, window

WEEKDAYS = [window(d, "08:00", "12:00") for d in ("mon", "tue", "wed", "thu", "fri")]


def _current(start: str, week: int, provider_id: str = "pt1", fixed: bool = False) -> dict:
    return {"provider": provider_id, "discipline": "physiotherapy", "kind": "treatment", "phase": "acute",
            "week": week, "start": start, "fixed": fixed}


def _plan(appointments, pt1_time_off=()) -> dict:
    return problem(
        [provider("pt1", ["physiotherapy"], WEEKDAYS, time_off=pt1_time_off),
         provider("pt2", ["physiotherapy"], WEEKDAYS)],
        [patient("p", WEEKDAYS, [line("physiotherapy", per_week=2, minutes=45, min_gap_days=2)], weeks=2,
                 appointments=appointments)],
        weeks=2)


BOOKED = [_current("2027-01-04T08:00", 0), _current("2027-01-06T08:00", 0),
          _current("2027-01-11T08:00", 1), _current("2027-01-13T08:00", 1)]


def test_a_providers_absence_moves_only_the_appointment_it_hits():
    solution = solved(_plan(BOOKED, pt1_time_off=[("2027-01-06T00:00", "2027-01-07T00:00")]))
    assert solution["metrics"]["moved"] == 1
    assert solution["metrics"]["scheduled"] == 4
    kept = sorted(a["start"][:16] for a in solution["appointments"] if a["rebooking"] == "kept")
    assert kept == ["2027-01-04T08:00", "2027-01-11T08:00", "2027-01-13T08:00"]
    [new] = [a for a in solution["appointments"] if a["rebooking"] == "new"]
    assert new["week"] == 0 and new["start"][:10] != "2027-01-06"


def test_nothing_moves_when_nothing_changed():
    solution = solved(_plan(BOOKED))
    assert solution["metrics"]["moved"] == 0
    assert {a["rebooking"] for a in solution["appointments"]} == {"kept"}


def test_fixed_appointments_stay_even_when_another_time_would_be_better():
    # Friday is late for the first session of week 0; fixed, it stays.
    fixed = [_current("2027-01-08T11:00", 0, fixed=True)]
    solution = solved(_plan(fixed))
    friday = [a for a in solution["appointments"] if a["start"].startswith("2027-01-08T11:00")]
    assert len(friday) == 1 and friday[0]["rebooking"] == "fixed"
    assert solution["metrics"]["scheduled"] == 4


def test_a_fixed_appointment_that_breaks_a_rule_is_an_invalid_problem():
    fixed = [_current("2027-01-06T08:00", 0, fixed=True)]
    with pytest.raises(ProblemError) as raised:
        solve(_plan(fixed, pt1_time_off=[("2027-01-06T00:00", "2027-01-07T00:00")]))
    assert raised.value.path == "patients[0].appointments[0]"


def test_fixed_appointments_that_clash_make_the_plan_infeasible():
    fixed = [_current("2027-01-04T08:00", 0, fixed=True), _current("2027-01-04T08:30", 0, "pt2", fixed=True)]
    solution = solve(_plan(fixed), deterministic=True)
    assert solution["status"] == "INFEASIBLE"
    assert solution["appointments"] == []
    assert all("fixed appointments" in u["reason"] for u in solution["unscheduled"])


def test_current_appointments_must_answer_a_demand():
    wrong_week = [_current("2027-01-18T08:00", 2)]
    with pytest.raises(ProblemError) as raised:
        solve(_plan(wrong_week))
    assert raised.value.path == "patients[0].appointments[0].week"
