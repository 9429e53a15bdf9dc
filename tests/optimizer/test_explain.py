"""Reasons for unscheduled sessions a front desk can act on."""

from __future__ import annotations

from .builders import line, patient, problem, provider, solved, window


def test_no_provider_offers_the_discipline():
    doc = problem([provider("pt", ["physiotherapy"], [window("mon", "08:00", "12:00")])],
                  [patient("p", [window("mon", "08:00", "12:00")], [line("chiropractic")])])
    [entry] = solved(doc)["unscheduled"]
    assert entry["reason"].startswith("no provider of the clinic offers chiropractic")


def test_nobody_works_inside_the_patients_windows_and_what_would_help():
    doc = problem([provider("dc", ["chiropractic"], [window("thu", "17:00", "20:00")])],
                  [patient("p", [window("mon", "08:00", "12:00")], [line("chiropractic", minutes=30)])])
    [entry] = solved(doc)["unscheduled"]
    assert "no chiropractic provider works inside the patient's windows in plan week 1" in entry["reason"]
    assert "Thursday evenings would add 11 options" in entry["reason"]


def test_every_slot_already_booked():
    doc = problem([provider("mt", ["massage"], [window("mon", "08:00", "12:00")],
                            booked=[("2027-01-04T08:00", "2027-01-04T12:00")])],
                  [patient("p", [window("mon", "08:00", "12:00")], [line("massage")])])
    [entry] = solved(doc)["unscheduled"]
    assert "already booked or away" in entry["reason"] and "plan week 1 (Mon 4 Jan–Sun 10 Jan)" in entry["reason"]
    assert entry["week"] == 0  # the field keeps the problem's count from 0


def test_daily_cap_is_named():
    doc = problem([provider("pt", ["physiotherapy"], [window("mon", "08:00", "12:00")]),
                   provider("mt", ["massage"], [window("mon", "08:00", "12:00")])],
                  [patient("p", [window("mon", "08:00", "12:00")], [line("physiotherapy"), line("massage")], cap=1)])
    [entry] = solved(doc)["unscheduled"]
    assert "maximum of 1 sessions" in entry["reason"]
