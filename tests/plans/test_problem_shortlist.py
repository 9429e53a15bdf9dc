"""A plan is solved over the clinicians it names and, per discipline, the few with the most free time in the
patient's hours (issue 19: at a network's scale the other clinicians' calendars were most of a 467 KB document
and most of the search). The names always stay; a clinic with no more clinicians than that sees no change."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from careplan.clinic import service as clinic
from careplan.plans import problem
from careplan.plans.problem import problem_for_plans, provider_key
from tests import factories

MONDAY = date(2027, 3, 1)


def _booked_hours(provider, hours_a_day: int) -> None:
    """`hours_a_day` sessions of an hour from 09:00 on each weekday of the plan's two weeks, of one patient."""
    patient = factories.patient(hours="mon-fri 08:00-20:00")
    for day in (MONDAY + timedelta(days=n) for n in range(14)):
        if day.weekday() < 5:
            for hour in range(hours_a_day):
                factories.appointment(patient, provider, clinic.local_datetime(day, time(9 + hour)), minutes=60)


@pytest.fixture
def network(ctx, monkeypatch):
    """Seven physiotherapists, each booked a different number of hours a day in the patient's hours (Ana, the
    care team's, the most), one free all evening only (past the patient's hours), and two massage therapists;
    plans solved over three clinicians per discipline."""
    monkeypatch.setattr(problem, "CLINICIANS_PER_DISCIPLINE", 3)
    physios = {}
    for name, load in (("Ana", 7), ("Ben", 0), ("Cleo", 1), ("Dev", 2), ("Eve", 3), ("Fay", 5)):
        physios[name] = factories.provider(name=name, hours="mon-fri 09:00-17:00")
        _booked_hours(physios[name], load)
    physios["Gil"] = factories.provider(name="Gil", hours="mon-fri 17:00-22:00")
    masseurs = [factories.provider(disciplines=("massage",)) for _ in range(2)]
    return physios, masseurs


def _plan(team: dict, hours: str = "mon-fri 09:00-17:00"):
    return factories.care_plan(factories.patient(hours=hours), team, start=MONDAY, status="draft",
                               phases=(("acute", 2, "Calm", [("physiotherapy", 2, 1, 45), ("massage", 1, 1, 60)]),))


def _offered(document: dict, discipline: str) -> set[str]:
    return {p["id"] for p in document["providers"] if discipline in p["disciplines"]}


def test_the_care_team_and_the_freest_clinicians_in_the_patients_hours_are_offered(network):
    physios, masseurs = network
    document = problem_for_plans([_plan({"physiotherapy": physios["Ana"]})])
    keys = {name: provider_key(p.id) for name, p in physios.items()}
    # Ana is named by the plan, busy as she is; beside her the three freest in 09:00-17:00. Gil, free all
    # evening, is free when the patient cannot come.
    assert _offered(document, "physiotherapy") == {keys["Ana"], keys["Ben"], keys["Cleo"], keys["Dev"]}
    # Two massage therapists, fewer than three: both, as without the shortlist.
    assert _offered(document, "massage") == {provider_key(m.id) for m in masseurs}
    # A clinician left out is left out whole: no window, no busy time of theirs in the document.
    assert keys["Fay"] not in {p["id"] for p in document["providers"]}


def test_an_evening_patient_is_offered_the_evening_clinician(network):
    physios, _ = network
    document = problem_for_plans([_plan({}, hours="mon-fri 17:00-20:00")])
    assert provider_key(physios["Gil"].id) in _offered(document, "physiotherapy")


def test_a_batch_is_offered_as_many_clinicians_as_its_patients_need(network):
    physios, _ = network
    document = problem_for_plans([_plan({}), _plan({})])
    # Two plans needing physiotherapy: up to six of the seven.
    assert len(_offered(document, "physiotherapy")) == 6
    assert provider_key(physios["Fay"].id) in _offered(document, "physiotherapy")


def test_a_clinic_with_few_clinicians_per_discipline_is_offered_all_of_them(network, monkeypatch):
    physios, _ = network
    monkeypatch.setattr(problem, "CLINICIANS_PER_DISCIPLINE", 7)
    document = problem_for_plans([_plan({})])
    assert _offered(document, "physiotherapy") == {provider_key(p.id) for p in physios.values()}


@pytest.fixture
def two_sites(ctx, monkeypatch):
    """Three free physiotherapists at West, a busier one at East, and massage only at East; two per discipline."""
    monkeypatch.setattr(problem, "CLINICIANS_PER_DISCIPLINE", 2)
    west, east = factories.location("West"), factories.location("East")

    def at(site):
        return [{**w, "location_id": site.id} for w in factories.windows("mon-fri 09:00-17:00")]

    physios = {name: factories.provider(name=name, hours=None, availability=at(site))
               for name, site in (("W1", west), ("W2", west), ("W3", west), ("E1", east))}
    _booked_hours(physios["E1"], 3)
    for _ in range(3):
        factories.provider(disciplines=("massage",), hours=None, availability=at(east))
    return {"west": west, "east": east, **{name: provider_key(p.id) for name, p in physios.items()}}


def test_the_shortlist_takes_clinicians_from_each_site(two_sites):
    """The freest physiotherapists all work at West, where no massage is given: a patient's sessions of a day
    are at one site, so the East physiotherapist, busier as she is, is kept for days with a massage."""
    document = problem_for_plans([_plan({})])
    assert _offered(document, "physiotherapy") == {two_sites["W1"], two_sites["E1"]}


def test_a_patient_coming_only_to_west_is_offered_west_clinicians(two_sites):
    plan = _plan({})
    plan.patient.locations = [two_sites["west"]]
    document = problem_for_plans([plan])
    assert _offered(document, "physiotherapy") == {two_sites["W1"], two_sites["W2"]}


def _solve(document: dict) -> dict:
    from careplan.optimizer.runner import solve

    return solve(document, time_limit=2, deterministic=True, processes=1)


@pytest.fixture
def east_only(ctx, monkeypatch):
    """Four physiotherapists, all at East; a patient who comes only to West; two per discipline."""
    monkeypatch.setattr(problem, "CLINICIANS_PER_DISCIPLINE", 2)
    west, east = factories.location("West"), factories.location("East")
    for _ in range(4):
        factories.provider(hours=None, availability=[{**w, "location_id": east.id}
                                                     for w in factories.windows("mon-fri 09:00-17:00")])
    return west


def _west_plan(west, **patient_fields):
    from careplan.extensions import db

    plan = factories.care_plan(factories.patient(hours="mon-fri 09:00-17:00"), {}, start=MONDAY, status="draft",
                               phases=(("acute", 2, "Calm", [("physiotherapy", 2, 1, 45)]),))
    plan.patient.locations = [west]
    for field, value in patient_fields.items():
        setattr(plan.patient, field, value)
    db.session.commit()
    return plan


def test_a_discipline_nobody_offers_at_the_patients_sites_keeps_clinicians_and_the_reason_says_the_sites(east_only):
    """Found in review: the shortlist kept none of them, and the desk read "no provider of the clinic offers
    physiotherapy" (hire someone) instead of the sites the patient accepts (change them)."""
    plan = _west_plan(east_only)
    document = problem_for_plans([plan])
    assert len(_offered(document, "physiotherapy")) == 2
    reasons = {entry["reason"] for entry in _solve(document)["unscheduled"]}
    assert reasons and all("at the locations the patient accepts (West)" in reason for reason in reasons)


def test_a_video_line_keeps_clinicians_of_another_site(east_only):
    """Found in review: by video the site does not matter, and the shortlist had dropped every clinician."""
    from careplan.extensions import db

    plan = _west_plan(east_only, accepts_virtual=True)
    for phase in plan.phases:
        for line in phase.lines:
            line.mode = "virtual"
    db.session.commit()
    result = _solve(problem_for_plans([plan]))
    assert result["unscheduled"] == [] and sum(1 for a in result["appointments"] if a["discipline"] == "physiotherapy") >= 4


def test_a_clinician_of_two_disciplines_is_ranked_on_each_ones_days(ctx, monkeypatch):
    """Found in review: free time was counted over the days of every discipline a clinician offers, so a
    physiotherapist who also gives massage, fully booked in the plan's physiotherapy weeks, ranked first on her
    free massage weeks and took the only place."""
    monkeypatch.setattr(problem, "CLINICIANS_PER_DISCIPLINE", 1)
    both = factories.provider(name="Both", disciplines=("physiotherapy", "massage"), hours="mon-fri 09:00-17:00")
    half = factories.provider(name="Half", hours="mon-fri 09:00-17:00")
    factories.provider(disciplines=("massage",), hours="mon-fri 09:00-17:00")
    someone, another = factories.patient(hours="mon-fri 08:00-20:00"), factories.patient(hours="mon-fri 08:00-20:00")
    for day in (MONDAY + timedelta(days=n) for n in range(14)):
        if day.weekday() < 5:
            for hour in range(8):
                factories.appointment(someone, both, clinic.local_datetime(day, time(9 + hour)), minutes=60)
            for hour in range(4):
                factories.appointment(another, half, clinic.local_datetime(day, time(9 + hour)), minutes=60)
    plan = factories.care_plan(factories.patient(), {}, start=MONDAY, status="draft",
                               phases=(("acute", 2, "Calm", [("physiotherapy", 2, 1, 45), ("massage", 1, 1, 60)]),
                                       ("later", 6, "Build", [("massage", 1, 1, 60)])))
    document = problem_for_plans([plan])
    assert _offered(document, "physiotherapy") == {provider_key(half.id)} | (
        {provider_key(both.id)} if provider_key(both.id) in _offered(document, "massage") else set())
    result = _solve(document)
    assert sum(1 for a in result["appointments"] if a["discipline"] == "physiotherapy") == 4


def test_a_solve_again_hints_only_clinicians_the_new_document_offers(network):
    """Found in review: after a conflict the job solves again from its first solution, on a document shortlisted
    anew; a hint naming a clinician no longer offered was refused by the optimizer, each costing a solve."""
    from types import SimpleNamespace

    from careplan.proposals.service import hint_with

    physios, _ = network
    document = problem_for_plans([_plan({"physiotherapy": physios["Ana"]})])
    kept, gone = provider_key(physios["Ana"].id), provider_key(physios["Fay"].id)
    assert gone not in {p["id"] for p in document["providers"]}
    patient = document["patients"][0]["id"]
    first = {"appointments": [{"patient": patient, "provider": who, "discipline": "physiotherapy",
                               "kind": "treatment", "start": f"{MONDAY.isoformat()}T{hour}:00", "phase": "acute",
                               "week": 0} for who, hour in ((kept, "10"), (gone, "14"))]}
    hint_with(SimpleNamespace(document=document), first)
    assert [hint["provider"] for hint in document["patients"][0]["appointments"]] == [kept]


def test_free_minutes_match_a_minute_by_minute_count():
    """The ranking's free minutes (sums over merged busy time) equal counting each minute of the working hours
    inside the patients' windows that no busy interval covers: random overlapping, touching and boundary-
    crossing calendars, split working hours, a day the clocks change."""
    import random
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/Toronto")
    chance = random.Random(19)
    days = {MONDAY + timedelta(days=n): 30 for n in range(14)} | {date(2027, 3, 14): 30}
    weekly = [{"day": d, "start": "08:00", "end": "12:00"} for d in problem.DAYS[:5]] + \
             [{"day": d, "start": "13:00", "end": "18:30"} for d in problem.DAYS[:5]] + \
             [{"day": "sun", "start": "01:00", "end": "05:00"}]
    windows = {d: [(9 * 60, 11 * 60), (10 * 60 + 30, 17 * 60)] for d in problem.DAYS[:5]} | {"sun": [(0, 24 * 60)]}
    for _ in range(20):
        busy = []
        for day in days:
            for _ in range(chance.randrange(6)):
                start = datetime.combine(day, time(0)) + timedelta(minutes=chance.randrange(0, 24 * 60, 5))
                busy.append((problem._wall_to_real(start, tz),
                             problem._wall_to_real(start + timedelta(minutes=chance.choice((15, 45, 60, 200))), tz)))
        taken = set()
        for a, b in busy:
            moment = a
            while moment < b:
                taken.add(moment)
                moment += timedelta(minutes=1)
        expected = 0
        for day in days:
            name = problem.DAYS[day.weekday()]
            for hours in (w for w in weekly if w["day"] == name):
                low, high = problem._minutes(hours["start"]), problem._minutes(hours["end"])
                for first, last in windows.get(name, []):
                    a, b = max(low, first), min(high, last)
                    if a < b:
                        start, end = problem._window_real(day, a, b, tz)
                        minutes = int((end - start).total_seconds() // 60)
                        expected += sum(1 for m in range(minutes) if start + timedelta(minutes=m) not in taken)
        found = problem._free_minutes({"id": "provider-1", "weekly": weekly},
                                      problem._Busy(reach={}, providers={"provider-1": busy}), windows, tz, days)
        assert found == expected


def test_free_minutes_are_exact_with_busy_time_given_to_the_microsecond():
    """Time off may be recorded to the microsecond: the free minutes of a window are its free time, counted
    exactly, rounded down (a fully booked window is 0, never -1)."""
    import random
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/Toronto")
    chance = random.Random(30)
    monday = MONDAY
    window_start, window_end = problem._window_real(monday, 9 * 60, 10 * 60, tz)
    weekly = [{"day": "mon", "start": "09:00", "end": "10:00"}]
    for _ in range(300):
        busy = []
        for _ in range(chance.randrange(1, 6)):
            start = window_start + timedelta(microseconds=chance.randrange(-3_600_000_000, 3_600_000_000))
            busy.append((start, start + timedelta(microseconds=chance.randrange(1, 3_600_000_000))))
        # The reference: the window less the union of the busy intervals cut to it.
        taken, reach = timedelta(0), window_start
        for a, b in sorted((max(a, window_start), min(b, window_end)) for a, b in busy):
            if a < b and b > reach:
                taken += b - max(a, reach)
                reach = b
        expected = (window_end - window_start - taken) // timedelta(minutes=1)
        found = problem._free_minutes({"id": "provider-1", "weekly": weekly},
                                      problem._Busy(reach={}, providers={"provider-1": busy}),
                                      {"mon": [(0, 24 * 60)]}, tz, {monday: 30})
        assert found == expected >= 0
