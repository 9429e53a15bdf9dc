"""The problem document carries only what the solve can use (issue 19), and that changes no solve.

`compacted` cuts the busy time of generated clinics (the optimizer's generator: calendars 70% full, time
off, locations, rooms, video) to what the optimizer reads; every session's options stay the same, and so do
the schedules and the reasons given for what cannot be placed."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest

from careplan.optimizer import check, solve
from careplan.optimizer.generator import generate, with_resources
from careplan.optimizer.problem import parse
from careplan.optimizer.space import Space
from careplan.plans.problem import compacted


def _options(document: dict) -> list[set]:
    """Every demand's options, by ids (provider, room and location indices differ between documents)."""
    space = Space(parse(document))
    problem = space.problem
    return [{(problem.providers[o.provider].id, o.start, o.end, o.virtual,
              problem.locations[o.location].id if o.location >= 0 else None,
              problem.rooms[o.room].id if o.room >= 0 else None) for o in space.options(d.index)}
            for d in space.demands]


def _clinics():
    plain = generate(7, providers=14, patients=2, weeks=6)
    yield "plain", plain
    yield "rooms", with_resources(generate(8, providers=14, patients=3, weeks=5), seed=8, locations=2)
    required = copy.deepcopy(generate(9, providers=12, patients=2, weeks=6, booked=0.8))
    physios = [p["id"] for p in required["providers"] if "physiotherapy" in p["disciplines"]]
    required["patients"][0]["required_providers"] = {"physiotherapy": physios[0]}
    yield "required", required
    # Across the spring's clock change (March 14th, 2027), with standing bookings.
    yield "standing", _standing(generate(10, providers=12, patients=2, weeks=6, booked=0.4, start="2027-02-22"))


def _standing(document: dict, providers: int = 4, hours: int = 2) -> dict:
    """The first clinicians booked for the first `hours` of each of their windows on every day of the horizon
    (standing appointments, a weekly meeting): busy time the document can say as later window starts."""
    document = copy.deepcopy(document)
    start = datetime.fromisoformat(document["clinic"]["horizon"]["start"])
    days = [start + timedelta(days=n) for n in range(7 * document["clinic"]["horizon"]["weeks"])]
    for provider in document["providers"][:providers]:
        for day in days:
            for window in provider["weekly"]:
                if window["day"] == day.strftime("%a").lower():
                    begins = datetime.combine(day.date(), datetime.strptime(window["start"], "%H:%M").time())
                    provider["booked"].append({"start": begins.strftime("%Y-%m-%dT%H:%M"),
                                               "end": (begins + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")})
    return document


def _intervals(entry: dict) -> list[tuple[str, str]]:
    return [(i["start"], i["end"]) for i in entry.get("time_off", []) + entry.get("booked", [])]


@pytest.mark.parametrize("name,document", list(_clinics()), ids=lambda v: v if isinstance(v, str) else "")
def test_compacting_changes_no_option_and_no_schedule(name, document):
    small = compacted(document)
    assert _options(small) == _options(document)
    busy = sum(len(_intervals(p)) for p in document["providers"])
    assert sum(len(_intervals(p)) for p in small["providers"]) < busy / 2, "the busy time barely shrank"
    full = solve(document, time_limit=2, deterministic=True)
    cut = solve(small, time_limit=2, deterministic=True)
    assert (cut["appointments"], cut["unscheduled"], cut["metrics"]) == \
        (full["appointments"], full["unscheduled"], full["metrics"])
    # The schedule made from the small document is valid against every appointment of the full one.
    assert check(document, cut) == []


def test_a_required_clinician_leaves_the_others_of_that_discipline_out():
    document = generate(9, providers=12, patients=1, weeks=6)
    physios = [p["id"] for p in document["providers"] if p["disciplines"] == ["physiotherapy"]]
    document["patients"][0]["required_providers"] = {"physiotherapy": physios[0]}
    kept = {p["id"] for p in compacted(document)["providers"]}
    assert physios[0] in kept and not kept & set(physios[1:])


def assert_only_what_the_solve_uses(document: dict) -> None:
    """Every clinician could take one of the document's sessions (a discipline one of its patients asks for
    that no other clinician is required for, and working hours on some day of the horizon), or is named by a
    patient; every busy list is sorted and merged (no two intervals touch), each interval meeting the
    clinician's working hours, and no free gap between two of them on one day shorter than the shortest
    session of the plans."""
    named = {who for patient in document["patients"]
             for who in [*patient.get("preferred_providers", {}).values(), *patient.get("required_providers", {}).values(),
                         *(a["provider"] for a in patient.get("appointments", []))]}
    shortest = min([line["minutes"] for patient in document["patients"] for phase in patient["plan"]["phases"]
                    for line in phase["sessions"]] +
                   [patient["plan"]["assessment"]["minutes"] for patient in document["patients"]
                    if "assessment" in patient["plan"]])
    for provider in document["providers"]:
        if provider["id"] not in named:
            asked = {line["discipline"] for patient in document["patients"] for phase in patient["plan"]["phases"]
                     for line in phase["sessions"]
                     if patient.get("required_providers", {}).get(line["discipline"]) in (None, provider["id"])}
            assert asked & set(provider["disciplines"]), f"{provider['id']} can take none of the sessions"
            assert provider["weekly"], f"{provider['id']} never works"
        assert not provider.get("time_off"), "time off is busy time, in `booked`"
        booked = [(datetime.fromisoformat(i["start"]), datetime.fromisoformat(i["end"])) for i in provider["booked"]]
        days = {w["day"]: (w["start"], w["end"]) for w in provider["weekly"]}
        for (start, end), (later, _) in zip(booked, booked[1:]):
            assert end < later, f"{provider['id']}: busy time not merged at {end}"
            if start.date() == later.date():
                assert later - end >= timedelta(minutes=shortest), f"{provider['id']}: a useless gap at {end}"
        for start, end in booked:
            day = start
            while day < end and day.strftime("%a").lower() not in days:
                day += timedelta(days=1)
            assert day < end, f"{provider['id']}: busy {start}-{end} outside their hours"


def test_generated_documents_carry_only_what_the_solve_uses():
    for _, document in _clinics():
        assert_only_what_the_solve_uses(compacted(document))
        with pytest.raises(AssertionError):  # as generated: time off apart, busy time unmerged
            assert_only_what_the_solve_uses(document)


def test_busy_time_standing_at_a_window_edge_every_day_becomes_the_window_edge():
    """A clinician booked for the first two hours of every window of the horizon works, for this solve, from
    two hours later: the windows say so once, instead of one busy interval a day, and the optimizer's
    options are the same (above, the "standing" clinic: schedules and reasons too)."""
    document = _standing(generate(10, providers=12, patients=2, weeks=6, booked=0.0), providers=3)
    for provider in document["providers"]:
        provider["time_off"] = []
    for patient in document["patients"]:
        patient["availability"] = [{"day": day, "start": "06:00", "end": "22:00"}
                                   for day in ("mon", "tue", "wed", "thu", "fri", "sat")]
    small = compacted(document)
    assert _options(small) == _options(document)
    kept = {p["id"]: p for p in small["providers"]}
    standing = [p for p in document["providers"][:3] if p["id"] in kept]
    assert standing
    for provider in standing:
        cut = kept[provider["id"]]
        assert cut["booked"] == [], "a standing booking is a window edge, not busy time"
        for before, after in zip(provider["weekly"], cut["weekly"]):
            shifted = datetime.strptime(before["start"], "%H:%M") + timedelta(hours=2)
            if shifted < datetime.strptime(before["end"], "%H:%M"):
                assert (after["day"], after["start"], after["end"]) == (before["day"], f"{shifted:%H:%M}", before["end"])
            else:
                assert after == before, "a window busy all through is kept whole"
    assert_only_what_the_solve_uses(small)


def test_a_window_is_cut_no_further_than_its_overlap_with_the_patients_windows():
    """The optimizer says "nobody works inside the patient's windows" from the windows alone: a patient
    available only in a clinician's standing hours keeps that overlap in the window (busy), so the reasons
    read the same."""
    document = _standing(generate(10, providers=12, patients=1, weeks=4, booked=0.0), providers=12, hours=3)
    first = document["providers"][0]["weekly"][0]
    begins = datetime.strptime(first["start"], "%H:%M")
    document["patients"][0]["availability"] = [
        {"day": first["day"], "start": first["start"], "end": f"{begins + timedelta(hours=2):%H:%M}"}]
    small = compacted(document)
    assert _options(small) == _options(document)
    full = solve(document, time_limit=2, deterministic=True)
    cut = solve(small, time_limit=2, deterministic=True)
    assert cut["unscheduled"] == full["unscheduled"] and full["unscheduled"]
    assert any("booked or away" in entry["reason"] for entry in full["unscheduled"])
