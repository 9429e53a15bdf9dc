"""Invalid problem documents: the offending field's path, exit 2, no traceback."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from careplan.optimizer import ProblemError, solve, validate

from .builders import line, patient, problem, provider, window

ROOT = Path(__file__).resolve().parents[2]


def _base() -> dict:
    return problem([provider("pt", ["physiotherapy"], [window("mon", "08:00", "12:00")])],
                   [patient("p1", [window("mon", "08:00", "12:00")], [line("physiotherapy")]),
                    patient("p2", [window("mon", "08:00", "12:00")],
                            [line("physiotherapy"), line("massage", minutes=45)])])


def _broken(edit) -> dict:
    doc = copy.deepcopy(_base())
    edit(doc)
    return doc


CASES = [
    (lambda d: d["patients"][1]["plan"]["phases"][0]["sessions"][1].update(per_week=0),
     "patients[1].plan.phases[0].sessions[1].per_week", "must be >= 1"),
    (lambda d: d.update(version=2), "version", "must be 1"),
    (lambda d: d["clinic"].update(timezone="Mars/Olympus"), "clinic.timezone", "unknown IANA time zone"),
    (lambda d: d["clinic"]["horizon"].update(start="2027-01-05"), "clinic.horizon.start", "must be a Monday"),
    (lambda d: d["providers"][0]["weekly"][0].update(day="monday"), "providers[0].weekly[0].day", "must be one of"),
    (lambda d: d["providers"][0]["weekly"][0].update(end="07:00"), "providers[0].weekly[0].end", "must be after"),
    (lambda d: d["providers"][0].update(booked=[{"start": "2027-01-04 09:00", "end": "2027-01-04T10:00"}]),
     "providers[0].booked[0].start", "YYYY-MM-DDTHH:MM"),
    (lambda d: d["patients"][0].pop("earliest_start"), "patients[0].earliest_start", "is required"),
    (lambda d: d["patients"][1].update(id="p1"), "patients[1].id", "duplicate id"),
    (lambda d: d["patients"][0].update(max_sessions_per_day=0), "patients[0].max_sessions_per_day", ">= 1"),
    (lambda d: d["patients"][0]["plan"]["phases"][0]["sessions"].append(line("physiotherapy")),
     "patients[0].plan.phases[0].sessions[1].discipline", "already listed"),
    (lambda d: d["patients"][0].update(preferred_providers={"physiotherapy": "pt-nobody"}),
     "patients[0].preferred_providers.physiotherapy", "unknown provider"),
    (lambda d: d["patients"][0].update(required_providers={"physiotherapy": "pt-nobody"}),
     "patients[0].required_providers.physiotherapy", "unknown provider"),
    (lambda d: d["patients"][1].update(required_providers={"massage": "pt"}),
     "patients[1].required_providers.massage", "pt does not practise massage"),
    (lambda d: d["patients"][0].update(locations=["loc-east"]), "patients[0].locations[0]",
     "clinic.locations is absent"),
    (lambda d: d["clinic"].update(locations=[{"id": "loc-east"}]), "providers[0].weekly[0].location", "is required"),
    (lambda d: d["clinic"].update(locations=[]), "clinic.locations", "at least one location"),
    (lambda d: d.update(rooms=[{"id": "table-1", "kind": "table"}]), "rooms[0].location", "is required"),
    (lambda d: d["patients"][1]["plan"]["phases"][0]["sessions"][0].update(mode="video"),
     "patients[1].plan.phases[0].sessions[0].mode", "must be 'in_person', 'virtual' or 'either'"),
    (lambda d: d["patients"][1]["plan"]["phases"][0]["sessions"][0].update(room_kind=""),
     "patients[1].plan.phases[0].sessions[0].room_kind", "non-empty string"),
    (lambda d: d["patients"][0].update(accepts_virtual="yes"), "patients[0].accepts_virtual", "true or false"),
    (lambda d: d["providers"][0]["weekly"][0].update(location="loc-east"), "providers[0].weekly[0].location",
     "clinic.locations is absent"),
    (lambda d: d["patients"][0]["availability"][0].update(location="loc-east"),
     "patients[0].availability[0].location", "unknown field"),
    (lambda d: d["patients"][0].update(languages=["fr"]), "patients[0].languages", "unknown field"),
    (lambda d: d["rules"].update(transition_minutes="ten"), "rules.transition_minutes", "must be an integer"),
    (lambda d: d["patients"][0]["plan"]["phases"][0].update(weeks=True), "patients[0].plan.phases[0].weeks",
     "must be an integer"),
]


@pytest.mark.parametrize("edit, path, message", CASES)
def test_validation_names_the_field(edit, path, message):
    doc = _broken(edit)
    [(where, what)] = validate(doc)
    assert where == path and message in what
    with pytest.raises(ProblemError) as raised:
        solve(doc)
    assert raised.value.path == path


def test_a_valid_problem_validates():
    assert validate(_base()) == []


def test_not_an_object_at_all():
    assert validate([1, 2]) == [("(document)", "must be an object")]


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "careplan.optimizer", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_cli_exits_2_with_the_path_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_broken(CASES[0][0])))
    result = _cli("solve", str(bad))
    assert result.returncode == 2
    assert "patients[1].plan.phases[0].sessions[1].per_week: must be >= 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_cli_exits_2_for_a_bad_option(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_base()))
    for option, message in (("--processes", "--processes: must be >= 1"), ("--time-limit", "--time-limit: must be > 0")):
        result = _cli("solve", str(good), option, "0")
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_cli_exits_2_for_unreadable_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = _cli("solve", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_cli_writes_the_solution_and_progress_apart(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_base()))
    out = tmp_path / "solution.json"
    result = _cli("solve", str(good), "--out", str(out), "--deterministic", "--time-limit", "5")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "sessions" in result.stderr
    solution = json.loads(out.read_text())
    assert solution["status"] in ("OPTIMAL", "FEASIBLE")
    to_stdout = _cli("solve", "-", "--quiet", stdin=json.dumps(_base()))
    assert json.loads(to_stdout.stdout)["version"] == 1 and to_stdout.stderr == ""
    checked = _cli("check", str(good), str(out))
    assert checked.returncode == 0 and "valid" in checked.stderr


def test_a_plan_that_asks_for_nothing_is_solved_with_nothing():
    doc = problem([provider("pt", ["physiotherapy"], [window("mon", "08:00", "12:00")])],
                  [patient("p1", [window("mon", "08:00", "12:00")], []),
                   patient("p2", [window("mon", "08:00", "12:00")], [line("physiotherapy")])])
    solution = solve(doc, deterministic=True)
    assert solution["metrics"]["demand"] == solution["metrics"]["scheduled"] == 1
