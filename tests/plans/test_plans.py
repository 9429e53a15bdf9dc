"""The plan: dates from week 0, edits that keep their history, statuses, and a clinician's phase changes."""
from datetime import date, datetime, timedelta, timezone

import pytest

from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.plans import service
from careplan.scheduling.models import Appointment
from tests import factories

START = date(2027, 1, 6)  # a Wednesday: plan week 0 is Monday 4 to Sunday 10 January


@pytest.fixture
def draft(app):
    """ids of a draft lumbar moderate plan, its patient and a physiotherapist."""
    with app.app_context():
        factories.protocols()
        physio = factories.provider(disciplines=("physiotherapy",))
        masseur = factories.provider(disciplines=("massage",))
        plan = factories.plan(start_date=START)
        return {"plan_id": plan.id, "patient_id": plan.patient_id, "physio_id": physio.id, "masseur_id": masseur.id}


def _phases(client, headers, plan_id):
    plan = client.get(f"/api/v1/plans/{plan_id}", headers=headers).get_json()
    return [{"name": p["name"], "weeks": p["weeks"], "purpose": p["purpose"], "sessions": p["sessions"]}
            for p in plan["phases"]]


def test_phase_dates_follow_plan_week_zero(client, auth, draft):
    plan = client.get(f"/api/v1/plans/{draft['plan_id']}", headers=auth("front_desk")).get_json()
    acute, subacute, maintenance = plan["phases"]
    assert plan["status"] == "draft" and plan["version"] == 1
    assert (acute["starts_on"], acute["ends_on"]) == ("2027-01-06", "2027-01-24")  # 3 weeks from Monday 4
    assert subacute["starts_on"] == "2027-01-25" and subacute["first_week"] == 3
    assert maintenance["ends_on"] == plan["ends_on"] == "2027-03-14"  # 10 weeks: Sunday of plan week 9
    assert plan["template"]["version"] == 1 and "lumbar" in plan["template"]["name"].lower()


def test_front_desk_edits_make_versions_with_who_when_why(client, auth, draft):
    desk = auth("front_desk")
    url = f"/api/v1/plans/{draft['plan_id']}"
    phases = _phases(client, desk, draft["plan_id"])
    phases[0]["sessions"][0]["per_week"] = 3
    phases[2]["weeks"] = 4
    missing_reason = client.patch(url, headers=desk, json={"phases": phases})
    assert missing_reason.status_code == 422 and "reason" in missing_reason.get_json()["error"]["fields"]

    changed = client.patch(url, headers=desk, json={
        "phases": phases, "reason": "Patient asked for more physiotherapy early on.",
        "care_team": [{"discipline": "physiotherapy", "provider_id": draft["physio_id"]}]})
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["version"] == 2 and body["phases"][0]["sessions"][0]["per_week"] == 3
    assert body["total_weeks"] == 11
    assert body["care_team"] == [{"discipline": "physiotherapy", "provider_id": draft["physio_id"],
                                  "required": False}]

    moved = client.patch(url, headers=desk, json={"start_date": "2027-01-11", "reason": "Away the first week."})
    assert moved.get_json()["version"] == 3 and moved.get_json()["care_team"] == body["care_team"]

    history = client.get(f"{url}/versions", headers=desk).get_json()
    assert [v["version"] for v in history] == [1, 2, 3]
    assert history[1]["reason"] == "Patient asked for more physiotherapy early on."
    assert history[1]["created_by_id"] is not None and history[1]["created_at"]
    assert history[0]["snapshot"]["phases"][0]["sessions"][0]["per_week"] == 2
    assert history[1]["snapshot"]["phases"][0]["sessions"][0]["per_week"] == 3
    assert history[2]["snapshot"]["start_date"] == "2027-01-11"


def test_the_care_team_must_practise_the_discipline(client, auth, draft):
    response = client.patch(f"/api/v1/plans/{draft['plan_id']}", headers=auth("front_desk"), json={
        "reason": "team", "care_team": [{"discipline": "physiotherapy", "provider_id": draft["masseur_id"]},
                                        {"discipline": "psychotherapy", "provider_id": draft["physio_id"]}]})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert "does not practise physiotherapy" in fields["care_team[0].provider_id"]
    assert fields["care_team[1].discipline"] == "the plan has no psychotherapy sessions"
    versions = client.get(f"/api/v1/plans/{draft['plan_id']}/versions", headers=auth("front_desk")).get_json()
    assert len(versions) == 1


def test_status_moves_only_along_the_plan_life(client, auth, app, draft):
    desk = auth("front_desk")
    status = f"/api/v1/plans/{draft['plan_id']}/status"
    assert client.post(status, headers=desk, json={"status": "active", "reason": "go"}).status_code == 409
    assert client.post(status, headers=desk, json={"status": "booked", "reason": "go"}).status_code == 422
    with app.app_context():
        service.mark_booked(service.get_plan(draft["plan_id"]), caller=factories.CALLER)
        db.session.commit()
    assert client.patch(f"/api/v1/plans/{draft['plan_id']}", headers=desk,
                        json={"start_date": "2027-01-11", "reason": "late"}).status_code == 409
    assert client.post(status, headers=desk, json={"status": "active", "reason": "First visit."}).status_code == 200
    done = client.post(status, headers=desk, json={"status": "completed", "reason": "Discharged."})
    assert done.get_json()["status"] == "completed"
    assert client.post(status, headers=desk, json={"status": "cancelled", "reason": "x"}).status_code == 409
    history = client.get(f"/api/v1/plans/{draft['plan_id']}/versions", headers=desk).get_json()
    assert [v["snapshot"]["status"] for v in history] == ["draft", "booked", "active", "completed"]


def _activate(app, plan_id, start=None):
    with app.app_context():
        plan = service.get_plan(plan_id)
        if start:
            plan.start_date = start
        service.mark_booked(plan, caller=factories.CALLER)
        db.session.commit()
        service.set_status(plan_id, "active", "Started.", caller=factories.CALLER)


def _appointment(plan_id, patient_id, provider_id, discipline, phase, week, start, status="booked"):
    row = Appointment(patient_id=patient_id, provider_id=provider_id, discipline_code=discipline, kind="treatment",
                      plan_id=plan_id, phase_name=phase, plan_week=week, starts_at=start,
                      ends_at=start + timedelta(minutes=45), status=status)
    db.session.add(row)
    db.session.flush()
    return row


def test_a_clinician_shortens_extends_and_advances_and_stale_appointments_show(client, auth, app, draft):
    with app.app_context():
        # The clinic's today, not the machine's: late on a Sunday in Toronto the machine (UTC) is in Monday, and
        # a plan started that Monday had not begun yet for the clinic, so it had no phase to advance.
        today = clinic.today()
    monday = today - timedelta(days=today.weekday())
    _activate(app, draft["plan_id"], start=monday)
    # This plan: acute weeks 0-2, subacute 3-6, maintenance 7-9; it started this week.
    soon = datetime.now(timezone.utc) + timedelta(days=30)
    with app.app_context():
        args = (draft["plan_id"], draft["patient_id"], draft["physio_id"])
        in_week_2 = _appointment(*args, "physiotherapy", "acute", 2, soon).id
        in_week_3 = _appointment(*args, "physiotherapy", "subacute", 3, soon + timedelta(days=1)).id
        third_in_week_3 = [_appointment(*args, "physiotherapy", "subacute", 3, soon + timedelta(days=d)).id
                           for d in (2, 3)]
        past = _appointment(*args, "physiotherapy", "acute", 2, soon - timedelta(days=60)).id
        cancelled = _appointment(*args, "physiotherapy", "acute", 2, soon, status="cancelled").id
        db.session.commit()
    url = f"/api/v1/plans/{draft['plan_id']}/phases/acute"
    assert client.patch(url, headers=auth("front_desk"), json={"change": "extend", "weeks": 1,
                                                                "reason": "x"}).status_code == 403
    clinician = auth("admin")
    before = client.get(f"/api/v1/plans/{draft['plan_id']}/stale-appointments", headers=clinician).get_json()
    assert [(s["id"], s["phase"], s["week"]) for s in before] == [(third_in_week_3[1], "subacute", 3)]

    shortened = client.patch(url, headers=clinician, json={"change": "shorten", "weeks": 1,
                                                           "reason": "Settling faster than expected."})
    assert shortened.status_code == 200, shortened.get_json()
    body = shortened.get_json()
    assert body["plan"]["phases"][0]["weeks"] == 2 and body["plan"]["version"] == 4
    stale = {s["id"]: s["why"] for s in body["stale_appointments"]}
    assert past not in stale and cancelled not in stale
    # The reasons are read by people, who count a plan's weeks from 1: plan_week 2 is "plan week 3".
    assert stale[in_week_2] == "plan week 3 is no longer in the acute phase"
    # Subacute now covers plan weeks 2-5: week 3 still belongs to it.
    assert in_week_3 not in stale and set(stale) == {in_week_2, third_in_week_3[1]}

    extended = client.patch(url, headers=clinician, json={"change": "extend", "weeks": 1, "reason": "Flare-up."})
    stale = {s["id"]: s["why"] for s in extended.get_json()["stale_appointments"]}
    assert list(stale) == [third_in_week_3[1]]
    assert "more physiotherapy sessions in plan week 4 than the 2" in stale[third_in_week_3[1]]
    with app.app_context():
        assert [a.id for a in service.stale_appointments(service.get_plan(draft["plan_id"]))] == [third_in_week_3[1]]

    advanced = client.patch(url, headers=clinician, json={"change": "advance", "reason": "Ready for strengthening."})
    assert advanced.get_json()["plan"]["phases"][0]["weeks"] == 1
    assert client.patch(url, headers=clinician, json={"change": "advance", "reason": "again"}).status_code == 409
    too_short = client.patch(url, headers=clinician, json={"change": "shorten", "weeks": 1, "reason": "x"})
    assert too_short.status_code == 422
    assert client.patch(url, headers=clinician, json={"change": "extend", "reason": "x"}).status_code == 422
    assert client.patch(f"/api/v1/plans/{draft['plan_id']}/phases/recovery", headers=clinician,
                        json={"change": "extend", "weeks": 1, "reason": "x"}).status_code == 404


def test_phases_of_a_draft_are_not_adjusted_by_clinicians(client, auth, draft):
    response = client.patch(f"/api/v1/plans/{draft['plan_id']}/phases/acute", headers=auth("admin"),
                            json={"change": "extend", "weeks": 1, "reason": "x"})
    assert response.status_code == 409


def test_providers_see_the_plans_of_their_patients_only(client, auth, app, draft):
    desk = auth("front_desk")
    client.patch(f"/api/v1/plans/{draft['plan_id']}", headers=desk, json={
        "reason": "team", "care_team": [{"discipline": "physiotherapy", "provider_id": draft["physio_id"]}]})
    on_team = auth("provider", provider_id=draft["physio_id"])
    stranger = auth("provider")
    url = f"/api/v1/plans/{draft['plan_id']}"
    assert client.get(url, headers=on_team).status_code == 200
    assert client.get(url, headers=stranger).status_code == 404
    assert [p["id"] for p in client.get("/api/v1/plans", headers=on_team).get_json()] == [draft["plan_id"]]
    assert client.get("/api/v1/plans", headers=stranger).get_json() == []
    assert client.patch(url, headers=on_team, json={"reason": "x", "start_date": "2027-02-01"}).status_code == 403
    own = auth("patient", patient_id=draft["patient_id"])
    assert client.get(url, headers=own).status_code == 200
    assert client.get(url, headers=auth("patient")).status_code == 404
    listed = client.get(f"/api/v1/plans?patient_id={draft['patient_id']}&status=draft", headers=desk).get_json()
    assert [p["id"] for p in listed] == [draft["plan_id"]]


def test_a_plan_needs_an_intake_or_a_patient_region_and_severity(client, auth, draft):
    desk = auth("front_desk")
    response = client.post("/api/v1/plans", headers=desk, json={"region": "lumbar"})
    assert set(response.get_json()["error"]["fields"]) == {"patient_id", "severity"}
    lumbar = client.get("/api/v1/protocols?region=lumbar&severity=moderate", headers=desk).get_json()[0]
    wrong = client.post("/api/v1/plans", headers=desk, json={"patient_id": draft["patient_id"], "region": "cervical",
                                                             "severity": "mild", "template_id": lumbar["id"]})
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["fields"] == {"template_id": "does not match the region and severity"}


def test_a_line_may_be_held_by_video_or_either_way(client, auth, draft):
    desk = auth("front_desk")
    url = f"/api/v1/plans/{draft['plan_id']}"
    phases = _phases(client, desk, draft["plan_id"])
    assert {line["mode"] for phase in phases for line in phase["sessions"]} == {"in_person"}
    phases[0]["sessions"][0]["mode"] = "video"
    bad = client.patch(url, headers=desk, json={"phases": phases, "reason": "By video."})
    assert bad.status_code == 422
    assert any(key.endswith("mode") for key in bad.get_json()["error"]["fields"]), bad.get_json()
    phases[0]["sessions"][0]["mode"] = "either"
    changed = client.patch(url, headers=desk, json={"phases": phases, "reason": "She may join by video."})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["phases"][0]["sessions"][0]["mode"] == "either"
