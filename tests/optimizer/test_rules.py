"""Each hard rule of the contract, on a case where dropping the rule would pay.

Every case is built so that a schedule breaking the rule would score better
on the objectives (fewer visits, less idle time, earlier care, more
sessions): the optimizer only leaves it alone because the rule holds.
"""

from __future__ import annotations

import datetime as dt

import pytest

from .builders import line, patient, problem, provider, solved, times, window

WEEKDAYS_8_12 = [window(d, "08:00", "12:00") for d in ("mon", "tue", "wed", "thu", "fri")]


def _day(iso: str) -> dt.date:
    return dt.datetime.fromisoformat(iso).date()


def test_no_session_before_earliest_start_and_each_in_its_plan_week():
    doc = problem([provider("pt", ["physiotherapy"], WEEKDAYS_8_12)],
                  [patient("p", WEEKDAYS_8_12, [line("physiotherapy")], weeks=2, earliest="2027-01-06")],
                  weeks=3)
    solution = solved(doc)
    days = {a["week"]: _day(a["start"]) for a in solution["appointments"]}
    assert days[0] == dt.date(2027, 1, 6)  # earliest care pulls it as early as allowed
    assert dt.date(2027, 1, 11) <= days[1] <= dt.date(2027, 1, 17)


def test_demand_is_met_exactly_never_more():
    doc = problem([provider("pt", ["physiotherapy"], WEEKDAYS_8_12)],
                  [patient("p", WEEKDAYS_8_12, [line("physiotherapy", per_week=2, minutes=45)])])
    solution = solved(doc)
    assert solution["metrics"]["scheduled"] == solution["metrics"]["demand"] == 2
    assert solution["unscheduled"] == []


def test_assessment_comes_before_every_other_appointment():
    # Massage at 08:45 before a 10:00 assessment on Thursday would make one
    # visit; with the assessment first it takes two.
    doc = problem(
        [provider("pt", ["physiotherapy"], [window("wed", "08:00", "09:00"), window("thu", "10:00", "11:00")]),
         provider("mt", ["massage"], [window("thu", "08:00", "10:00"), window("fri", "08:00", "12:00")])],
        [patient("p", WEEKDAYS_8_12, [line("massage")], assessment={"discipline": "physiotherapy", "minutes": 60})])
    solution = solved(doc)
    assessment = next(a for a in solution["appointments"] if a["kind"] == "assessment")
    massage = next(a for a in solution["appointments"] if a["discipline"] == "massage")
    assert massage["start"] >= assessment["end"]
    assert solution["metrics"]["visits"] == 2


def test_nothing_is_booked_when_the_assessment_cannot_be():
    doc = problem(
        [provider("pt", ["physiotherapy"], [window("sat", "08:00", "12:00")]),
         provider("mt", ["massage"], WEEKDAYS_8_12)],
        [patient("p", WEEKDAYS_8_12, [line("massage")], assessment={"discipline": "physiotherapy", "minutes": 60})])
    solution = solved(doc)
    assert solution["appointments"] == []
    massage = next(u for u in solution["unscheduled"] if u["discipline"] == "massage")
    assert "assessment could not be placed" in massage["reason"]


def test_only_qualified_providers():
    # The physiotherapist could give the massage on Monday in the same visit.
    doc = problem(
        [provider("pt", ["physiotherapy"], [window("mon", "08:00", "12:00")]),
         provider("mt", ["massage"], [window("wed", "08:00", "12:00")])],
        [patient("p", WEEKDAYS_8_12, [line("physiotherapy"), line("massage")])])
    solution = solved(doc)
    assert {(a["discipline"], a["provider"]) for a in solution["appointments"]} == {
        ("physiotherapy", "pt"), ("massage", "mt")}
    assert solution["metrics"]["visits"] == 2


@pytest.mark.parametrize("how", ["window", "time_off", "booked"])
def test_provider_calendar_is_respected(how):
    # Massage is only possible 10:00-11:00; physiotherapy 09:00-10:00 would
    # leave no idle time, but the physiotherapist is only free 08:00-09:00.
    if how == "window":
        pt = provider("pt", ["physiotherapy"], [window("mon", "08:00", "09:00")])
    elif how == "time_off":
        pt = provider("pt", ["physiotherapy"], [window("mon", "08:00", "12:00")],
                      time_off=[("2027-01-04T09:00", "2027-01-05T00:00")])
    else:
        pt = provider("pt", ["physiotherapy"], [window("mon", "08:00", "12:00")],
                      booked=[("2027-01-04T09:00", "2027-01-04T12:00")])
    doc = problem([pt, provider("mt", ["massage"], [window("mon", "10:00", "11:00")])],
                  [patient("p", [window("mon", "08:00", "12:00")], [line("physiotherapy"), line("massage")])])
    solution = solved(doc)
    assert times(solution, "physiotherapy") == [("2027-01-04T08:00:00-05:00", "2027-01-04T09:00:00-05:00")]
    assert solution["metrics"]["idle_minutes"] == 50


def test_providers_never_double_booked_across_patients():
    doc = problem([provider("pt", ["physiotherapy"], [window("mon", "08:00", "09:00")])],
                  [patient("p1", [window("mon", "08:00", "12:00")], [line("physiotherapy")]),
                   patient("p2", [window("mon", "08:00", "12:00")], [line("physiotherapy")])])
    solution = solved(doc)
    assert solution["metrics"]["scheduled"] == 1
    assert "taken by other patients" in solution["unscheduled"][0]["reason"]


@pytest.mark.parametrize("how", ["two_windows", "booked"])
def test_patient_windows_and_bookings_are_respected(how):
    # Massage is at 08:00-09:00; physiotherapy at 09:10 would leave no idle
    # time, but the patient is away until 09:30.
    if how == "two_windows":
        me = patient("p", [window("mon", "08:00", "09:00"), window("mon", "09:30", "12:00")],
                     [line("physiotherapy"), line("massage")])
    else:
        me = patient("p", [window("mon", "08:00", "12:00")], [line("physiotherapy"), line("massage")],
                     booked=[("2027-01-04T09:00", "2027-01-04T09:30")])
    doc = problem([provider("pt", ["physiotherapy"], [window("mon", "08:00", "12:00")]),
                   provider("mt", ["massage"], [window("mon", "08:00", "09:00")])], [me])
    solution = solved(doc)
    assert times(solution, "physiotherapy")[0][0] == "2027-01-04T09:30:00-05:00"


def test_patient_never_in_two_places_and_gets_transition_time():
    doc = problem([provider("pt", ["physiotherapy"], [window("mon", "08:00", "10:00")]),
                   provider("mt", ["massage"], [window("mon", "08:00", "10:00")])],
                  [patient("p", [window("mon", "08:00", "10:00")],
                           [line("physiotherapy", minutes=45), line("massage", minutes=45)])])
    solution = solved(doc)
    (s1, e1), (s2, e2) = times(solution)
    gap = dt.datetime.fromisoformat(s2) - dt.datetime.fromisoformat(e1)
    assert gap >= dt.timedelta(minutes=10)
    assert solution["metrics"]["visits"] == 1


def test_waiting_between_sessions_is_capped():
    # Physiotherapy 08:00-09:00 and massage 11:00-12:00 on Monday would be one
    # visit with two hours of waiting; the cap forces a second day.
    doc = problem([provider("pt", ["physiotherapy"],
                            [window("mon", "08:00", "09:00"), window("tue", "08:00", "12:00")]),
                   provider("mt", ["massage"], [window("mon", "11:00", "12:00")])],
                  [patient("p", [window("mon", "08:00", "12:00"), window("tue", "08:00", "12:00")],
                           [line("physiotherapy"), line("massage")])])
    solution = solved(doc)
    assert solution["metrics"]["scheduled"] == 2
    assert solution["metrics"]["visits"] == 2


def test_sessions_per_day_are_capped():
    doc = problem([provider("pt", ["physiotherapy"], [window("mon", "08:00", "12:00")]),
                   provider("mt", ["massage"], [window("mon", "08:00", "12:00"), window("tue", "08:00", "12:00")])],
                  [patient("p", [window("mon", "08:00", "12:00"), window("tue", "08:00", "12:00")],
                           [line("physiotherapy"), line("massage")], cap=1)])
    solution = solved(doc)
    assert solution["metrics"]["scheduled"] == 2
    assert solution["metrics"]["visits"] == 2


def test_spacing_between_sessions_of_one_discipline():
    # Physiotherapy Tuesday + Thursday would share Tuesday's massage visit;
    # three days apart means Monday and Thursday.
    doc = problem([provider("pt", ["physiotherapy"], WEEKDAYS_8_12),
                   provider("mt", ["massage"], [window("tue", "08:00", "12:00")])],
                  [patient("p", [window(d, "08:00", "12:00") for d in ("mon", "tue", "thu")],
                           [line("physiotherapy", per_week=2, min_gap_days=3), line("massage")])])
    solution = solved(doc)
    days = sorted(_day(s) for s, _ in times(solution, "physiotherapy"))
    assert (days[1] - days[0]).days >= 3
    assert solution["metrics"]["visits"] == 3


def test_spacing_holds_across_plan_weeks():
    # Friday of week 0 and Monday of week 1 are 3 days apart: too close for 4.
    doc = problem([provider("pt", ["physiotherapy"],
                            [window("mon", "08:00", "12:00"), window("fri", "08:00", "12:00")])],
                  [patient("p", [window("mon", "08:00", "12:00"), window("fri", "08:00", "12:00")],
                           [line("physiotherapy", min_gap_days=4)], weeks=2, earliest="2027-01-08")],
                  weeks=2)
    solution = solved(doc)
    days = sorted(_day(s) for s, _ in times(solution))
    assert days == [dt.date(2027, 1, 8), dt.date(2027, 1, 15)]


def test_starts_lie_on_the_slot_grid():
    # 08:15 would fit the physiotherapist's hour, but the grid is 30 minutes.
    doc = problem([provider("pt", ["physiotherapy"], [window("mon", "08:15", "09:15")])],
                  [patient("p", [window("mon", "08:00", "12:00")], [line("physiotherapy")])], slot=30)
    solution = solved(doc)
    assert solution["appointments"] == []
    assert len(solution["unscheduled"]) == 1


def test_nothing_outside_the_horizon():
    doc = problem([provider("pt", ["physiotherapy"], WEEKDAYS_8_12)],
                  [patient("p", WEEKDAYS_8_12, [line("physiotherapy")], weeks=3)], weeks=2)
    solution = solved(doc)
    assert [a["week"] for a in solution["appointments"]] == [0, 1]
    assert "outside the scheduling horizon" in solution["unscheduled"][0]["reason"]


def test_a_required_clinician_alone_delivers_their_discipline():
    # pt-bob could give both physiotherapy sessions on Monday and Tuesday beside the massage; the plan
    # requires pt-ana, who only works Wednesday mornings: one session with her, the other unscheduled,
    # its reason naming her.
    doc = problem([provider("pt-ana", ["physiotherapy"], [window("wed", "08:00", "12:00")]),
                   provider("pt-bob", ["physiotherapy"], WEEKDAYS_8_12),
                   provider("mt", ["massage"], [window("mon", "08:00", "12:00")])],
                  [patient("p", WEEKDAYS_8_12, [line("physiotherapy", per_week=2), line("massage")],
                           required={"physiotherapy": "pt-ana"})])
    solution = solved(doc)
    physio = [a for a in solution["appointments"] if a["discipline"] == "physiotherapy"]
    assert [(a["provider"], _day(a["start"])) for a in physio] == [("pt-ana", dt.date(2027, 1, 6))]
    [missing] = solution["unscheduled"]
    assert missing["discipline"] == "physiotherapy" and "pt-ana" in missing["reason"]
    assert solution["metrics"]["visits"] == 2


def test_a_required_assessor_holds_back_the_plan_when_away():
    # The assessment is required of pt-ana, away all week: nothing is booked, though pt-bob is free.
    doc = problem([provider("pt-ana", ["physiotherapy"], WEEKDAYS_8_12,
                            time_off=[("2027-01-04T00:00", "2027-01-11T00:00")]),
                   provider("pt-bob", ["physiotherapy"], WEEKDAYS_8_12)],
                  [patient("p", WEEKDAYS_8_12, [line("physiotherapy")],
                           assessment={"discipline": "physiotherapy", "minutes": 60},
                           required={"physiotherapy": "pt-ana"})])
    solution = solved(doc)
    assert solution["appointments"] == []
    assessment = next(u for u in solution["unscheduled"] if u["kind"] == "assessment")
    assert "only pt-ana" in assessment["reason"] and "booked or away" in assessment["reason"]
