"""The shared samples: solved, checked, never worse than first-available booking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from careplan.optimizer import baseline, check, solve

SAMPLES = Path(__file__).resolve().parents[2] / "bench" / "samples"


def _load(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def _key(appointment: dict) -> tuple:
    return tuple(appointment[k] for k in ("patient", "provider", "discipline", "kind", "phase", "week", "start", "end"))


def test_first_available_reproduces_the_reference_greedy_solution():
    problem, reference = _load("tiny.json"), _load("tiny.greedy.json")
    ours = baseline(problem)
    assert sorted(map(_key, ours["appointments"])) == sorted(map(_key, reference["appointments"]))
    assert ours["metrics"] == reference["metrics"]
    assert check(problem, ours) == [] and check(problem, reference) == []


def test_tiny_is_solved_to_optimality_and_beats_the_greedy_solution():
    problem = _load("tiny.json")
    solution = solve(problem, deterministic=True)
    assert check(problem, solution) == []
    assert solution["status"] == "OPTIMAL"
    assert solution["metrics"]["scheduled"] >= 6 and solution["metrics"]["visits"] < 6
    for entry in solution["unscheduled"]:
        # Reasons are read by people, who count a plan's weeks from 1 (the `week` field counts from 0).
        assert "plan week 1 (" in entry["reason"] and entry["week"] == 0


@pytest.mark.parametrize("name, seconds", [("one-plan.json", 20), ("clinic.json", 8)])
def test_samples_are_valid_and_never_book_fewer_sessions(name, seconds):
    problem = _load(name)
    solution = solve(problem, time_limit=seconds)
    assert check(problem, solution) == []
    assert solution["method"] == "cp-sat"
    by_hand = baseline(problem)["metrics"]
    assert solution["metrics"]["scheduled"] >= by_hand["scheduled"]
    assert solution["metrics"]["visits"] <= by_hand["visits"]
    assert len(solution["unscheduled"]) == solution["metrics"]["demand"] - solution["metrics"]["scheduled"]
