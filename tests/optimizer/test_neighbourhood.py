"""The batch's neighbourhoods move several patients' sessions together where one at a time cannot."""

from __future__ import annotations

import pytest

from careplan.optimizer import batch, check, solve
from careplan.optimizer.baseline import first_available
from careplan.optimizer.batch import Task, run_task
from careplan.optimizer.generator import generate
from careplan.optimizer.neighbourhood import Chooser
from careplan.optimizer.problem import parse
from careplan.optimizer.solution import document
from careplan.optimizer.space import Space

from .builders import line, patient, problem, provider, window


@pytest.fixture
def no_joint_model(monkeypatch):
    """Intakes above twelve plans are never solved as one model: only the neighbourhoods can help."""
    monkeypatch.setattr(batch, "JOINT_PROOF_PATIENTS", 0)


def _chain() -> dict:
    # Monday 09:00-10:00 is the only hour of pt-xavier and of pt-yann (who
    # also massages); pt-zoe works Tuesday 09:00-10:00.
    #   ria books first: physiotherapy with pt-xavier on Monday, beside her
    #   massage at 10:15, so Monday is her one visit;
    #   quinn: physiotherapy, Mondays only: pt-yann, beside her nutrition at 10:15;
    #   pat: a massage, Mondays only, and only pt-yann massages: nothing left.
    # Each plan alone is optimal around the others, and so is pat with quinn,
    # the one holding pat's only option: quinn's other option is ria's (and
    # giving pat quinn's hour would only add a visit). Only the three
    # together book pat: ria's physiotherapy goes to Tuesday (one more visit
    # for her, one more session for the clinic, which ranks first).
    monday = [window("mon", "09:00", "10:00")]
    staff = [
        provider("pt-xavier", ["physiotherapy"], monday),
        provider("pt-yann", ["physiotherapy", "massage"], monday),
        provider("pt-zoe", ["physiotherapy"], [window("tue", "09:00", "10:00")]),
        provider("mt-mia", ["massage"], [window("mon", "10:15", "11:15")]),
        provider("rd-noe", ["nutrition"], [window("mon", "10:15", "11:15"), window("wed", "09:00", "12:00")]),
    ]
    plans = [
        patient("ria", [window("mon", "09:00", "11:15"), window("tue", "09:00", "10:00")],
                [line("physiotherapy"), line("massage")]),
        patient("quinn", [window("mon", "09:00", "11:15")], [line("physiotherapy"), line("nutrition")]),
        patient("pat", monday, [line("massage")]),
        patient("noor", [window("wed", "09:00", "12:00")], [line("nutrition")]),
    ]
    return problem(staff, plans)


def _crossed() -> dict:
    # Two weeks; each physiotherapist has one free hour a week, at 09:00 one
    # week and 10:30 the other. First-available gives ana pt-xavier then
    # pt-yann (each week's earliest) and ben the other two: a break each.
    # Alone, neither can change (the other holds the hour they would need);
    # exchanging clinicians, each keeps one.
    weekly = [window("mon", "09:00", "11:30")]
    staff = [
        provider("pt-xavier", ["physiotherapy"], weekly,
                 booked=[("2027-01-04T10:00", "2027-01-04T11:30"), ("2027-01-11T09:00", "2027-01-11T10:30")]),
        provider("pt-yann", ["physiotherapy"], weekly,
                 booked=[("2027-01-04T09:00", "2027-01-04T10:30"), ("2027-01-11T10:00", "2027-01-11T11:30")]),
        provider("rd-noe", ["nutrition"], [window("wed", "09:00", "12:00")]),
    ]
    plans = [
        patient("ana", weekly, [line("physiotherapy")], weeks=2),
        patient("ben", weekly, [line("physiotherapy")], weeks=2),
        patient("cy", [window("wed", "09:00", "12:00")], [line("nutrition")], weeks=2),
        patient("dora", [window("wed", "09:00", "12:00")], [line("nutrition")], weeks=2),
    ]
    return problem(staff, plans, weeks=2)


def _solved(doc: dict) -> dict:
    solution = solve(doc, time_limit=5, deterministic=True)
    assert check(doc, solution) == []
    assert solution["method"] == "cp-sat"
    return solution


def test_a_chain_of_three_patients_makes_room_that_no_pair_can(no_joint_model):
    doc = _chain()
    space = Space(parse(doc))
    by_hand = first_available(space)
    assert len(by_hand) == 5  # pat's massage is left out
    solution = _solved(doc)
    assert solution["metrics"]["scheduled"] == 6
    assert solution["unscheduled"] == []
    where = {(a["patient"], a["discipline"]): (a["provider"], a["start"][:16]) for a in solution["appointments"]}
    assert where["ria", "physiotherapy"] == ("pt-zoe", "2027-01-05T09:00")
    assert where["quinn", "physiotherapy"] == ("pt-xavier", "2027-01-04T09:00")
    assert where["pat", "massage"] == ("pt-yann", "2027-01-04T09:00")


def test_two_patients_exchange_clinicians_to_keep_one_each(no_joint_model):
    doc = _crossed()
    space = Space(parse(doc))
    assert _breaks(space, first_available(space)) == 2
    solution = _solved(doc)
    assert solution["metrics"]["scheduled"] == 8
    assert solution["metrics"]["continuity_breaks"] == 0


def _breaks(space: Space, bookings) -> int:
    seen: dict = {}
    for b in bookings:
        demand = space.demands[b.demand]
        seen.setdefault((demand.patient, demand.discipline), set()).add(b.provider)
    return sum(len(providers) - 1 for providers in seen.values())


def test_a_neighbourhood_re_solves_its_free_demands_and_keeps_every_other_appointment():
    doc = generate(61, providers=8, patients=8, weeks=4, booked=0.6)
    space = Space(parse(doc))
    start = first_available(space)
    by_patient: dict = {}
    for b in start:
        by_patient.setdefault(space.demands[b.demand].patient, []).append(b)
    chooser = Chooser(space)
    candidate = next(c for c in chooser.candidates(by_patient) if c.kind == "week")
    chosen = chooser.build(candidate, by_patient, set(), 0)
    assert candidate.patient in chosen.patients and len(chosen.patients) > 1
    group = set(chosen.patients)
    current = [b for p in chosen.patients for b in by_patient.get(p, [])]
    occupied: dict = {}
    for b in start:
        if space.demands[b.demand].patient not in group:
            occupied.setdefault(b.provider, []).append((b.start, b.end))
    done = run_task(space, Task("stage1", chosen.patients, occupied, current, 2.0, True, chosen.free, "week"))
    kept = [b for b in current if b.demand not in chosen.free]
    assert kept and set(kept) <= set(done.bookings)
    assert all(b.demand in chosen.free for b in set(done.bookings) - set(current))
    others = [b for b in start if space.demands[b.demand].patient not in group]
    assert check(doc, _document(space, others + done.bookings)) == []


def _document(space: Space, bookings) -> dict:
    return document(space, bookings, "FEASIBLE", 0.0)
