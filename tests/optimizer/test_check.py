"""The independent checker catches what a broken solver would get wrong."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from careplan.optimizer import check, solve

SAMPLES = Path(__file__).resolve().parents[2] / "bench" / "samples"


@pytest.fixture
def tiny():
    problem = json.loads((SAMPLES / "tiny.json").read_text())
    solution = json.loads((SAMPLES / "tiny.greedy.json").read_text())
    assert check(problem, solution) == []
    return problem, solution


def _broken(solution: dict, edit) -> dict:
    broken = copy.deepcopy(solution)
    edit(broken)
    return broken


@pytest.mark.parametrize("edit, expected", [
    (lambda s: s["appointments"][1].update(start="2027-01-08T09:05:00-05:00", end="2027-01-08T09:50:00-05:00"),
     "off the 15-minute grid"),
    (lambda s: s["appointments"][1].update(start="2027-01-08T09:00:00-04:00", end="2027-01-08T09:45:00-04:00"),
     "UTC offset"),
    (lambda s: s["appointments"][1].update(provider="mt-yasmine"), "does not practise"),
    (lambda s: s["appointments"][1].update(end="2027-01-08T10:00:00-05:00"), "the plan says 45 minutes"),
    (lambda s: s["appointments"].append(dict(s["appointments"][2])), "already with a patient"),
    (lambda s: s["unscheduled"].pop(), "plan asks"),
    (lambda s: s["metrics"].update(visits=5), "metrics.visits"),
    (lambda s: s["appointments"][0].update(start="2027-01-08T10:15:00-05:00", end="2027-01-08T11:15:00-05:00"),
     "before the assessment ends"),
])
def test_checker_catches(tiny, edit, expected):
    problem, solution = tiny
    faults = check(problem, _broken(solution, edit))
    assert any(expected in fault for fault in faults), faults


def test_checker_refuses_another_clinician_for_a_required_discipline():
    from .builders import line, patient, problem, provider, window

    days = [window(d, "08:00", "12:00") for d in ("mon", "tue")]
    doc = problem([provider("pt-ana", ["physiotherapy"], days), provider("pt-bob", ["physiotherapy"], days)],
                  [patient("p", days, [line("physiotherapy")], required={"physiotherapy": "pt-ana"})])
    solution = solve(doc, time_limit=5, deterministic=True)
    assert check(doc, solution) == []
    solution["appointments"][0]["provider"] = "pt-bob"
    assert any("pt-ana's alone" in fault for fault in check(doc, solution))
