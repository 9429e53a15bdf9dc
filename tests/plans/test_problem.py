"""The plan exported as a problem document of shared/scheduling-problem.md (format v1)."""
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from careplan.errors import Invalid
from careplan.extensions import db
from careplan.plans.problem import patient_key, problem_for_plans, provider_key, record_id
from careplan.plans.service import get_plan
from careplan.providers.service import add_time_off
from careplan.scheduling.models import Appointment
from tests import factories

DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$")
TORONTO = ZoneInfo("America/Toronto")


def _window(w, where):
    assert set(w) == {"day", "start", "end"}, where
    assert w["day"] in DAYS and HHMM.match(w["start"]) and HHMM.match(w["end"]) and w["start"] < w["end"], where


def _interval(i, where):
    assert set(i) == {"start", "end"}, where
    assert LOCAL.match(i["start"]) and LOCAL.match(i["end"]) and i["start"] < i["end"], where


def _line(line, where):
    assert {"discipline", "per_week", "minutes"} <= set(line) <= {"discipline", "per_week", "minutes",
                                                                   "every_weeks", "min_gap_days"}, where
    assert isinstance(line["discipline"], str) and line["discipline"]
    assert 1 <= line["per_week"] <= 14 and line["minutes"] >= 1
    assert line.get("every_weeks", 1) >= 1 and 0 <= line.get("min_gap_days", 1) <= 7


def assert_problem_shape(doc: dict) -> None:
    """The contract's required keys, types and formats, checked by hand (independent of the optimizer)."""
    assert doc["version"] == 1
    clinic = doc["clinic"]
    ZoneInfo(clinic["timezone"])
    assert 1440 % clinic["slot_minutes"] == 0
    assert date.fromisoformat(clinic["horizon"]["start"]).weekday() == 0
    assert isinstance(clinic["horizon"]["weeks"], int) and clinic["horizon"]["weeks"] >= 1
    assert doc["rules"]["max_wait_minutes"] >= doc["rules"]["transition_minutes"] >= 0
    ids = [p["id"] for p in doc["providers"]]
    assert len(ids) == len(set(ids))
    for n, provider in enumerate(doc["providers"]):
        assert {"id", "disciplines", "weekly", "booked"} <= set(provider) <= {"id", "disciplines", "weekly",
                                                                               "time_off", "booked"}
        assert provider["disciplines"] and all(isinstance(d, str) for d in provider["disciplines"])
        for w in provider["weekly"]:
            _window(w, f"providers[{n}].weekly")
        for i in provider.get("time_off", []) + provider["booked"]:
            _interval(i, f"providers[{n}]")
    patients = [p["id"] for p in doc["patients"]]
    assert len(patients) == len(set(patients))
    for n, patient in enumerate(doc["patients"]):
        assert {"id", "earliest_start", "availability", "plan"} <= set(patient)
        date.fromisoformat(patient["earliest_start"])
        for w in patient["availability"]:
            _window(w, f"patients[{n}].availability")
        for i in patient.get("booked", []):
            _interval(i, f"patients[{n}].booked")
        assert all(pid in ids for pid in patient.get("preferred_providers", {}).values())
        assert all(pid in ids for pid in patient.get("required_providers", {}).values())
        plan = patient["plan"]
        if "assessment" in plan:
            assert set(plan["assessment"]) == {"discipline", "minutes"}
        assert plan["phases"]
        for p, phase in enumerate(plan["phases"]):
            assert set(phase) == {"name", "weeks", "sessions"} and phase["weeks"] >= 1
            disciplines = [line["discipline"] for line in phase["sessions"]]
            assert len(disciplines) == len(set(disciplines))
            for s, line in enumerate(phase["sessions"]):
                _line(line, f"patients[{n}].plan.phases[{p}].sessions[{s}]")


def _at(text):
    return datetime.fromisoformat(text).replace(tzinfo=TORONTO)


@pytest.fixture
def clinic(ctx):
    """A plan across the spring daylight-saving change (Sunday 14 March 2027 in Toronto)."""
    factories.protocols()
    physio = factories.provider(disciplines=("physiotherapy", "kinesiology"))
    other_physio = factories.provider(disciplines=("physiotherapy",), hours="tue 09:00-12:00")
    masseur = factories.provider(disciplines=("massage",), hours="sat 09:00-14:00")
    factories.provider(disciplines=("physiotherapy",), active=False)
    factories.provider(disciplines=("psychotherapy",))  # no psychotherapy in a plain plan
    patient = factories.patient(hours="mon-fri 16:00-20:00")
    plan = factories.plan(patient.id, start_date=date(2027, 3, 10), care_team=[
        {"discipline": "physiotherapy", "provider_id": physio.id},
        {"discipline": "massage", "provider_id": masseur.id}])
    add_time_off(physio.id, {"starts_at": _at("2027-03-13T10:00"), "ends_at": _at("2027-03-15T10:00")})
    someone = factories.patient()
    for who, start, status in ((someone.id, "2027-03-16T09:00", "booked"), (someone.id, "2027-03-17T09:00",
                                                                            "cancelled"),
                               (patient.id, "2027-03-18T17:00", "confirmed")):
        db.session.add(Appointment(patient_id=who, provider_id=physio.id, discipline_code="physiotherapy",
                                   starts_at=_at(start), ends_at=_at(start) + timedelta(minutes=45), status=status))
    db.session.commit()
    ids = {"plan": plan.id, "physio": physio.id, "other_physio": other_physio.id, "masseur": masseur.id,
           "patient": patient.id}
    db.session.commit()  # ends the read above, so a request's own session may write
    return ids


def test_the_problem_follows_the_format(clinic):
    plan = get_plan(clinic["plan"])
    doc = problem_for_plans([plan])
    assert_problem_shape(doc)
    assert doc["clinic"] == {"timezone": "America/Toronto", "slot_minutes": 15,
                             "horizon": {"start": "2027-03-08", "weeks": 10}}
    assert doc["rules"] == {"transition_minutes": 10, "max_wait_minutes": 60}

    providers = {p["id"]: p for p in doc["providers"]}
    # Active providers of a needed discipline only, named provider-<id>; the disciplines they offer this plan.
    assert set(providers) == {provider_key(clinic[k]) for k in ("physio", "other_physio", "masseur")}
    physio = providers[provider_key(clinic["physio"])]
    assert physio["disciplines"] == ["kinesiology", "physiotherapy"]
    assert physio["weekly"][0] == {"day": "mon", "start": "08:00", "end": "16:00"}
    # Time off and appointments are one busy list, inside the hours the physio works (Mon-Fri 08:00-16:00):
    # the time off from Saturday 10:00 EST is Monday until 10:00 EDT (a wall time after the change stays
    # 10:00, not 09:00 or 11:00); the appointment at 17:00 is after hours, where nothing can be placed.
    assert "time_off" not in physio
    assert physio["booked"] == [{"start": "2027-03-15T08:00", "end": "2027-03-15T10:00"},
                                {"start": "2027-03-16T09:00", "end": "2027-03-16T09:45"}]

    (patient,) = doc["patients"]
    assert patient["id"] == patient_key(clinic["patient"]) and record_id(patient["id"]) == clinic["patient"]
    assert patient["earliest_start"] == "2027-03-10"
    assert patient["availability"][0] == {"day": "mon", "start": "16:00", "end": "20:00"}
    assert patient["booked"] == [{"start": "2027-03-18T17:00", "end": "2027-03-18T17:45"}]
    assert patient["preferred_providers"] == {"massage": provider_key(clinic["masseur"]),
                                              "physiotherapy": provider_key(clinic["physio"])}
    assert patient["plan"]["assessment"] == {"discipline": "physiotherapy", "minutes": 60}
    assert [(p["name"], p["weeks"]) for p in patient["plan"]["phases"]] == [
        ("acute", 3), ("subacute", 4), ("maintenance", 3)]
    assert patient["plan"]["phases"][0]["sessions"][0] == {
        "discipline": "physiotherapy", "per_week": 2, "minutes": 45, "every_weeks": 1, "min_gap_days": 2}


def test_time_off_is_read_over_the_horizon_alone(clinic):
    """Time off is read from the database over the horizon: an absence reaching into it from before is busy
    time where it overlaps it, one wholly before or after it is not read."""
    add_time_off(clinic["physio"], {"starts_at": _at("2027-02-20T00:00"), "ends_at": _at("2027-03-10T09:00")})
    add_time_off(clinic["physio"], {"starts_at": _at("2027-01-04T08:00"), "ends_at": _at("2027-01-05T08:00")})
    add_time_off(clinic["physio"], {"starts_at": _at("2027-05-17T00:00"), "ends_at": _at("2027-05-19T00:00")})
    db.session.commit()
    doc = problem_for_plans([get_plan(clinic["plan"])])
    physio = next(p for p in doc["providers"] if p["id"] == provider_key(clinic["physio"]))
    assert physio["booked"] == [{"start": "2027-03-10T08:00", "end": "2027-03-10T09:00"},
                                {"start": "2027-03-15T08:00", "end": "2027-03-15T10:00"},
                                {"start": "2027-03-16T09:00", "end": "2027-03-16T09:45"}]


def test_overrides_of_horizon_preferences_and_availability(clinic):
    plan = get_plan(clinic["plan"])
    doc = problem_for_plans([plan], start=date(2027, 3, 1), weeks=14,
                            preferred_providers={plan.id: {"physiotherapy": clinic["other_physio"]}},
                            patient_availability={plan.patient_id: factories.windows("sat 09:00-12:00")})
    assert_problem_shape(doc)
    assert doc["clinic"]["horizon"] == {"start": "2027-03-01", "weeks": 14}
    patient = doc["patients"][0]
    assert patient["preferred_providers"]["physiotherapy"] == provider_key(clinic["other_physio"])
    assert patient["availability"] == [{"day": "sat", "start": "09:00", "end": "12:00"}]
    with pytest.raises(Invalid):
        problem_for_plans([plan], start=date(2027, 3, 2))
    with pytest.raises(Invalid):
        problem_for_plans([plan], start=date(2027, 3, 15))
    with pytest.raises(Invalid):
        problem_for_plans([plan, plan])


def test_the_problem_endpoint(client, auth, clinic):
    desk = auth("front_desk")
    response = client.get(f"/api/v1/plans/{clinic['plan']}/problem", headers=desk)
    assert response.status_code == 200
    assert_problem_shape(response.get_json())
    assert response.get_json()["patients"][0]["id"] == f"patient-{clinic['patient']}"
    assert client.get(f"/api/v1/plans/{clinic['plan']}/problem?start=2027-03-09",
                      headers=desk).status_code == 422


def test_a_required_care_team_member_is_a_required_provider(clinic):
    plan = get_plan(clinic["plan"])
    for member in plan.care_team:
        member.required = member.discipline_code == "physiotherapy"
    db.session.commit()
    doc = problem_for_plans([plan])
    assert_problem_shape(doc)
    patient = doc["patients"][0]
    assert patient["required_providers"] == {"physiotherapy": provider_key(clinic["physio"])}
    assert patient["preferred_providers"] == {"massage": provider_key(clinic["masseur"])}
    # The front desk asking this proposal to try someone else makes physiotherapy a preference again.
    doc = problem_for_plans([plan], preferred_providers={plan.id: {"physiotherapy": clinic["other_physio"]}})
    assert "required_providers" not in doc["patients"][0]
    assert doc["patients"][0]["preferred_providers"]["physiotherapy"] == provider_key(clinic["other_physio"])


def test_a_required_provider_who_no_longer_works_is_refused_by_name(clinic):
    from careplan.providers.models import Provider

    plan = get_plan(clinic["plan"])
    for member in plan.care_team:
        member.required = True
    db.session.get(Provider, clinic["masseur"]).active = False
    db.session.commit()
    with pytest.raises(Invalid) as refused:
        problem_for_plans([plan])
    assert refused.value.fields == {"care_team.massage": "required provider is not available"}


def test_the_problem_carries_only_what_the_solve_can_use(clinic):
    from tests.plans.test_problem_compact import assert_only_what_the_solve_uses

    plan = get_plan(clinic["plan"])
    for member in plan.care_team:
        member.required = member.discipline_code == "physiotherapy"
    factories.provider(disciplines=("massage",), hours=None)  # works no hours at all: takes nothing
    someone = factories.patient()
    # Back to back, then a quarter of an hour free (shorter than any of the plan's sessions), then free.
    for start, minutes in (("2027-03-17T09:00", 45), ("2027-03-17T09:45", 45), ("2027-03-17T10:45", 45)):
        db.session.add(Appointment(patient_id=someone.id, provider_id=clinic["physio"],
                                   discipline_code="physiotherapy", starts_at=_at(start),
                                   ends_at=_at(start) + timedelta(minutes=minutes), status="booked"))
    db.session.commit()
    doc = problem_for_plans([get_plan(clinic["plan"])])
    assert_problem_shape(doc)
    assert_only_what_the_solve_uses(doc)
    # The other physio could only take physiotherapy, which the care team requires of the physio.
    assert [p["id"] for p in doc["providers"]] == [provider_key(clinic["physio"]), provider_key(clinic["masseur"])]
    physio = doc["providers"][0]
    assert {"start": "2027-03-17T09:00", "end": "2027-03-17T11:30"} in physio["booked"]
