"""The red-flag screen blocks a plan, is recorded, and only a clinician's written reason overrides it."""
import pytest

from careplan.intake.models import RED_FLAGS
from careplan.intake.service import derive_severity
from tests import factories


@pytest.fixture
def setup(app):
    """Protocols, a patient, and (ids of) what the tests need, made outside any request."""
    with app.app_context():
        factories.protocols()
        return {"patient_id": factories.patient().id}


@pytest.mark.parametrize("flag", list(RED_FLAGS))
def test_each_red_flag_blocks_and_is_recorded(client, auth, setup, flag):
    desk = auth("front_desk")
    patient_id = setup["patient_id"]
    response = client.post(f"/api/v1/patients/{patient_id}/intakes", headers=desk,
                           json=factories.intake_body(red_flags={flag: True}))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "red_flag"
    assert "Urgent medical care is needed" in error["message"] and RED_FLAGS[flag] in error["message"]
    assert error["fields"] == {f"red_flags.{flag}": f"positive: {RED_FLAGS[flag]}"}

    recorded = client.get(f"/api/v1/patients/{patient_id}/intakes", headers=desk).get_json()
    assert [i["id"] for i in recorded] == [error["intake_id"]]
    assert recorded[0]["screen_result"] == "red_flag" and recorded[0]["positive_red_flags"] == [flag]
    assert recorded[0]["red_flags"][flag] is True

    blocked = client.post("/api/v1/plans", headers=desk, json={"intake_id": error["intake_id"]})
    assert blocked.status_code == 422 and blocked.get_json()["error"]["code"] == "red_flag"
    assert client.get("/api/v1/plans", headers=desk).get_json() == []


def test_several_flags_are_all_named(client, auth, setup):
    response = client.post(f"/api/v1/patients/{setup['patient_id']}/intakes", headers=auth("front_desk"),
                           json=factories.intake_body(red_flags={"fever": True, "night_sweats": True}))
    message = response.get_json()["error"]["message"]
    assert "fever" in message and "night sweats" in message


def test_only_a_clinician_overrides_with_a_reason_that_is_kept(client, auth, app, setup):
    desk = auth("front_desk")
    patient_id = setup["patient_id"]
    intake_id = client.post(f"/api/v1/patients/{patient_id}/intakes", headers=desk, json=factories.intake_body(
        red_flags={"constant_pain_at_rest": True})).get_json()["error"]["intake_id"]
    url = f"/api/v1/intakes/{intake_id}/override"
    reason = "Examined: the pain changes with position; imaging is ordered, conservative care may start."

    assert client.post(url, headers=desk, json={"reason": reason}).status_code == 403
    admin = auth("admin")
    assert client.post(url, headers=admin, json={}).get_json()["error"]["fields"] == {
        "reason": "Missing data for required field."}
    assert client.post(url, headers=admin, json={"reason": "ok"}).status_code == 422

    done = client.post(url, headers=admin, json={"reason": reason})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["screen_result"] == "overridden"
    assert body["override"]["reason"] == reason and body["override"]["by_user_id"] is not None
    assert body["override"]["at"]
    assert client.post(url, headers=admin, json={"reason": reason}).status_code == 409

    plan = client.post("/api/v1/plans", headers=desk, json={"intake_id": intake_id})
    assert plan.status_code == 201, plan.get_json()
    assert client.get(f"/api/v1/intakes/{intake_id}", headers=desk).get_json()["override"]["reason"] == reason


def test_a_provider_on_the_care_team_may_override(client, auth, app, setup):
    with app.app_context():
        provider = factories.provider()
        factories.plan(setup["patient_id"], care_team=[{"discipline": "physiotherapy", "provider_id": provider.id}])
        provider_id = provider.id
    intake_id = client.post(f"/api/v1/patients/{setup['patient_id']}/intakes", headers=auth("front_desk"),
                            json=factories.intake_body(red_flags={"fever": True})).get_json()["error"]["intake_id"]
    response = client.post(f"/api/v1/intakes/{intake_id}/override", headers=auth("provider", provider_id=provider_id),
                           json={"reason": "Fever is from a cold that has passed; no infection of the spine."})
    assert response.status_code == 200 and response.get_json()["screen_result"] == "overridden"


def test_any_active_clinician_may_judge_a_red_flag_and_sees_nothing_else(client, auth, app, setup):
    desk = auth("front_desk")
    patient_id = setup["patient_id"]
    clear_id = client.post(f"/api/v1/patients/{patient_id}/intakes", headers=desk,
                           json=factories.intake_body()).get_json()["id"]
    intake_id = client.post(f"/api/v1/patients/{patient_id}/intakes", headers=desk, json=factories.intake_body(
        red_flags={"night_sweats": True})).get_json()["error"]["intake_id"]
    with app.app_context():
        # A new patient has no care team yet: this clinician has never treated them.
        clinician = factories.user("provider", provider_id=factories.provider(name="Dr Ana Moreau").id)
        retired = factories.user("provider", provider_id=factories.provider(active=False).id)
        clinician_id, headers, retired_headers = clinician.id, factories.bearer(clinician), factories.bearer(retired)

    screen = client.get(f"/api/v1/intakes/{intake_id}", headers=headers)
    assert screen.status_code == 200 and screen.get_json()["positive_red_flags"] == ["night_sweats"]
    reason = "Night sweats explained by a new medication; no sign of infection or tumour on examination."
    done = client.post(f"/api/v1/intakes/{intake_id}/override", headers=headers, json={"reason": reason})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["override"] == {"reason": reason, "at": done.get_json()["override"]["at"],
                                           "by_user_id": clinician_id, "by_name": "Dr Ana Moreau"}
    assert client.get(f"/api/v1/intakes/{intake_id}", headers=headers).status_code == 200
    # The rest of the record stays closed to a clinician outside the care team.
    for url in (f"/api/v1/patients/{patient_id}", f"/api/v1/patients/{patient_id}/intakes",
                f"/api/v1/intakes/{clear_id}", f"/api/v1/patients/{patient_id}/notes"):
        assert client.get(url, headers=headers).status_code == 404, url
    # Only an active clinician judges.
    assert client.get(f"/api/v1/intakes/{intake_id}", headers=retired_headers).status_code == 404


def test_a_clear_intake_builds_a_plan_flagged_for_referral(client, auth, setup):
    desk = auth("front_desk")
    response = client.post(f"/api/v1/patients/{setup['patient_id']}/intakes", headers=desk, json=factories.intake_body(
        severity="mild", referral_signs={"pain_below_knee": True, "new_weakness_or_numbness": True},
        pain_stress_or_insomnia=True))
    assert response.status_code == 201, response.get_json()
    intake = response.get_json()
    assert intake["screen_result"] == "clear" and intake["override"] is None
    plan = client.post("/api/v1/plans", headers=desk, json={"intake_id": intake["id"]}).get_json()
    assert plan["referral_advised"] is True
    assert [s["sign"] for s in plan["referral_signs"]] == ["new_weakness_or_numbness", "pain_below_knee"]
    assert plan["severity"] == "mild" and plan["intake_id"] == intake["id"]
    assert "psychotherapy" in [s["discipline"] for s in plan["phases"][0]["sessions"]]

    quiet = client.post(f"/api/v1/patients/{setup['patient_id']}/intakes", headers=desk,
                        json=factories.intake_body()).get_json()
    plain = client.post("/api/v1/plans", headers=desk, json={"intake_id": quiet["id"]}).get_json()
    assert plain["referral_advised"] is False and plain["referral_signs"] == []


def test_every_red_flag_question_must_be_answered(client, auth, setup):
    body = factories.intake_body()
    del body["red_flags"]["fever"]
    response = client.post(f"/api/v1/patients/{setup['patient_id']}/intakes", headers=auth("front_desk"), json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"red_flags.fever": "Missing data for required field."}
    assert client.get(f"/api/v1/patients/{setup['patient_id']}/intakes",
                      headers=auth("front_desk")).get_json() == []


def test_severity_is_derived_from_the_answers(client, auth, setup):
    body = factories.intake_body(severity_answers={"pain_score": 6, "worsening": False,
                                                   "daily_activities": "unaffected"})
    del body["severity"]
    response = client.post(f"/api/v1/patients/{setup['patient_id']}/intakes", headers=auth("front_desk"), json=body)
    assert response.get_json()["severity"] == "moderate"
    del body["severity_answers"]
    assert client.post(f"/api/v1/patients/{setup['patient_id']}/intakes", headers=auth("front_desk"),
                       json=body).get_json()["error"]["fields"] == {
        "severity": "give the severity or the answers it is derived from"}


@pytest.mark.parametrize("answers,severity", [
    ({"pain_score": 3, "worsening": False, "daily_activities": "unaffected"}, "mild"),
    ({"pain_score": 5, "worsening": False, "daily_activities": "unaffected"}, "moderate"),
    ({"pain_score": 2, "worsening": False, "daily_activities": "limited"}, "moderate"),
    ({"pain_score": 8, "worsening": False, "daily_activities": "limited"}, "severe"),
    ({"pain_score": 4, "worsening": True, "daily_activities": "unaffected"}, "severe"),
    ({"pain_score": 4, "worsening": False, "daily_activities": "prevented"}, "severe"),
])
def test_derive_severity(answers, severity):
    assert derive_severity(answers) == severity


def test_patients_outside_reach_are_not_found(client, auth, setup):
    url = f"/api/v1/patients/{setup['patient_id']}/intakes"
    assert client.get(url, headers=auth("provider")).status_code == 404
    assert client.post(url, headers=auth("provider"), json=factories.intake_body()).status_code == 404
    assert client.get(url, headers=auth("patient")).status_code == 403
