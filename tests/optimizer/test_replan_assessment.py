"""A re-plan whose opening assessment must move (its clinician is away that day) keeps the sessions after it.

Found on the demo clinic: three days of a physiotherapist's sick leave, over a plan's assessment and two
sessions, re-planned 19 appointments to another physiotherapist. The first-available start kept a current
appointment only if the assessment was already booked, and the assessment was the one to move, so every
later session was "before the assessment" and dropped; the search, starting there, rarely found its way back
within the desk's 5 seconds.
"""

from __future__ import annotations

from careplan.optimizer.baseline import first_available
from careplan.optimizer.problem import parse
from careplan.optimizer.solution import document
from careplan.optimizer.space import Space

from .builders import line, patient, problem, provider, solved, window

WEEKDAYS = [window(d, "08:00", "12:00") for d in ("mon", "tue", "wed", "thu", "fri")]


def _current(start: str, week: int | None, kind: str = "treatment") -> dict:
    current = {"provider": "pt1", "discipline": "physiotherapy", "kind": kind, "start": start, "fixed": False}
    if week is not None:
        current.update(phase="acute", week=week)
    return current


def _plan() -> dict:
    appointments = [_current("2027-01-04T08:00", None, "assessment"),
                     _current("2027-01-06T08:00", 0), _current("2027-01-08T08:00", 0),
                     _current("2027-01-11T08:00", 1), _current("2027-01-13T08:00", 1),
                     _current("2027-01-18T08:00", 2), _current("2027-01-20T08:00", 2)]
    return problem(
        [provider("pt1", ["physiotherapy"], WEEKDAYS, time_off=[("2027-01-04T00:00", "2027-01-05T00:00")]),
         provider("pt2", ["physiotherapy"], WEEKDAYS)],
        [patient("p", WEEKDAYS, [line("physiotherapy", per_week=2, minutes=45, min_gap_days=2)], weeks=3,
                 assessment={"discipline": "physiotherapy", "minutes": 60}, appointments=appointments)],
        weeks=3)


def test_the_first_available_start_keeps_the_sessions_after_an_assessment_that_moves():
    doc = _plan()
    space = Space(parse(doc))
    start = first_available(space)
    assert document(space, start, "FEASIBLE", 0.0)["metrics"]["moved"] == 1


def test_a_short_re_plan_moves_only_the_assessment():
    solution = solved(_plan(), time_limit=1.0)
    assert solution["metrics"]["moved"] == 1 and solution["metrics"]["scheduled"] == 7
    kept = sorted(a["start"][:16] for a in solution["appointments"] if a["rebooking"] == "kept")
    assert kept == ["2027-01-06T08:00", "2027-01-08T08:00", "2027-01-11T08:00", "2027-01-13T08:00",
                    "2027-01-18T08:00", "2027-01-20T08:00"]


def test_an_assessment_placed_in_a_treatments_slot_is_new_and_that_treatment_moved():
    """Found in use: a re-plan that booked a cancelled assessment again in the slot of the first treatment
    called it "kept" (same clinician, time and discipline), so the service kept the treatment and never booked
    the assessment, and the moves were under-counted."""
    appointments = [_current("2027-01-06T08:00", 0), _current("2027-01-08T08:00", 0)]
    doc = problem(
        [provider("pt1", ["physiotherapy"], WEEKDAYS, time_off=[("2027-01-04T00:00", "2027-01-06T00:00")])],
        [patient("p", WEEKDAYS, [line("physiotherapy", per_week=2, minutes=45, min_gap_days=2)], weeks=1,
                 assessment={"discipline": "physiotherapy", "minutes": 60}, appointments=appointments)],
        weeks=1)
    solution = solved(doc, time_limit=1.0)
    [assessment] = [a for a in solution["appointments"] if a["kind"] == "assessment"]
    assert assessment["start"][:16] == "2027-01-06T08:00" and assessment["rebooking"] == "new"
    kept = [a["start"][:16] for a in solution["appointments"] if a["rebooking"] == "kept"]
    assert "2027-01-06T08:00" not in kept
    assert solution["metrics"]["moved"] == 2 - len(kept) >= 1
