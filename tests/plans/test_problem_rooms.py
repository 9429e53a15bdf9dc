"""A plan's problem carries the clinic's locations, rooms and video sessions (the contract's optional
extensions) when it has any, and the optimizer books them as the service would."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from careplan.extensions import db
from careplan.optimizer import check, solve, validate
from careplan.plans.problem import location_key, patient_key, problem_for_plans, provider_key, room_key
from careplan.plans.service import get_plan
from careplan.scheduling.models import Appointment
from tests import factories

TORONTO = ZoneInfo("America/Toronto")


def _clinic():
    east, west = factories.location("East"), factories.location("West")
    table = factories.room(east.id, name="Table 1")
    factories.room(west.id, "gym", capacity=3, name="Gym")
    factories.needs_room("massage")
    hours = [{**factories.windows("mon-fri 08:00-16:00")[d], "location_id": east.id if d < 3 else west.id}
             for d in range(5)]
    physio = factories.provider(disciplines=("physiotherapy",), hours=None, availability=hours)
    masseur = factories.provider(disciplines=("massage",), hours=None, availability=hours)
    patient = factories.patient(hours="mon-fri 08:00-17:00", accepts_virtual=True, location_ids=[east.id])
    plan = factories.care_plan(patient, {"physiotherapy": physio, "massage": masseur}, start=date(2027, 3, 1),
                               status="draft", phases=(("acute", 2, "Calm", [("physiotherapy", 2, 1, 45),
                                                                             ("massage", 1, 1, 60)]),))
    plan.phases[0].lines[0].mode = "either"
    # Someone else's massage already holds the table on the Monday morning.
    other = factories.patient()
    db.session.add(Appointment(patient_id=other.id, provider_id=factories.provider(disciplines=("massage",)).id,
                               discipline_code="massage", room_id=table.id, room_unit=1, location_id=east.id,
                               starts_at=datetime(2027, 3, 1, 8, 0, tzinfo=TORONTO),
                               ends_at=datetime(2027, 3, 1, 9, 0, tzinfo=TORONTO)))
    db.session.commit()
    return {"east": east.id, "west": west.id, "table": table.id, "physio": physio.id, "patient": patient.id,
            "plan": plan.id}


def test_the_problem_carries_locations_rooms_and_video(ctx):
    ids = _clinic()
    doc = problem_for_plans([get_plan(ids["plan"])])
    assert validate(doc) == []
    assert doc["clinic"]["locations"] == [{"id": location_key(ids["east"]), "name": "East"},
                                          {"id": location_key(ids["west"]), "name": "West"}]
    table = next(r for r in doc["rooms"] if r["id"] == room_key(ids["table"]))
    assert table == {"id": room_key(ids["table"]), "location": location_key(ids["east"]), "kind": "treatment-table",
                     "capacity": 1, "booked": [{"start": "2027-03-01T08:00", "end": "2027-03-01T09:00"}]}
    physio = next(p for p in doc["providers"] if p["id"] == provider_key(ids["physio"]))
    assert {(w["day"], w["location"]) for w in physio["weekly"]} == {
        ("mon", location_key(ids["east"])), ("tue", location_key(ids["east"])), ("wed", location_key(ids["east"])),
        ("thu", location_key(ids["west"])), ("fri", location_key(ids["west"]))}
    patient = doc["patients"][0]
    assert patient["id"] == patient_key(ids["patient"])
    assert (patient["accepts_virtual"], patient["locations"]) == (True, [location_key(ids["east"])])
    lines = {line["discipline"]: line for line in patient["plan"]["phases"][0]["sessions"]}
    assert lines["physiotherapy"]["mode"] == "either" and "room_kind" not in lines["physiotherapy"]
    assert lines["massage"]["room_kind"] == "treatment-table" and "mode" not in lines["massage"]

    solution = solve(doc, time_limit=5, deterministic=True)
    assert check(doc, solution) == []
    massages = [a for a in solution["appointments"] if a["discipline"] == "massage"]
    assert massages and all(a["room"] == room_key(ids["table"]) and a["location"] == location_key(ids["east"])
                            for a in massages)
    assert not any(a["start"].startswith("2027-03-01T08") for a in massages)  # the table is held then


def test_a_clinic_without_locations_or_rooms_gives_the_plain_problem(ctx):
    physio = factories.provider(disciplines=("physiotherapy",))
    patient = factories.patient()
    plan = factories.care_plan(patient, {"physiotherapy": physio}, start=date(2027, 3, 1), status="draft")
    doc = problem_for_plans([get_plan(plan.id)])
    assert "locations" not in doc["clinic"] and "rooms" not in doc
    assert all(set(w) == {"day", "start", "end"} for p in doc["providers"] for w in p["weekly"])
    assert set(doc["patients"][0]) == {"id", "max_sessions_per_day", "earliest_start", "availability", "booked",
                                       "preferred_providers", "plan"}
    assert date.fromisoformat(doc["clinic"]["horizon"]["start"]) + timedelta(weeks=2) > date(2027, 3, 1)
