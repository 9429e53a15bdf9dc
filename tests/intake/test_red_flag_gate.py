"""A patient whose latest intake has an unresolved red flag gets no plan, no proposal and no booking of a
plan session, whichever path asks; an override opens them again."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from careplan.extensions import db
from careplan.intake.models import Intake
from careplan.plans.models import CarePlan
from careplan.proposals import service as proposals
from careplan.proposals.models import Proposal
from careplan.scheduling.models import Appointment
from tests import factories

FAST = {"time_limit": 1.0, "deterministic": True}
MONDAY = date(2027, 3, 1)
REASON = "Examined: the fever was a passing cold; conservative care is safe to start."


def _red_flag(client, desk, patient_id: int) -> int:
    answer = client.post(f"/api/v1/patients/{patient_id}/intakes", headers=desk,
                         json=factories.intake_body(red_flags={"fever": True}))
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "red_flag"
    return answer.get_json()["error"]["intake_id"]


def _refused_for_red_flag(answer, intake_id: int) -> None:
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "red_flag" and error["intake_id"] == intake_id
    assert error["fields"] == {"red_flags.fever": "positive: fever"}


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def red_flagged(app, client, auth):
    """A patient with a draft plan and a live proposal for it (made while the screen was clear), a booked
    plan with its appointments, then an intake with a positive red flag."""
    desk = auth("front_desk")
    with app.app_context():
        factories.protocols()
        physio = factories.provider()
        patient = factories.patient()
        draft = factories.care_plan(patient, {"physiotherapy": physio}, start=MONDAY, status="draft")
        proposal = proposals.propose(draft.id, dict(FAST), caller=factories.CALLER)
        booked = factories.care_plan(patient, {"physiotherapy": physio}, start=MONDAY + timedelta(weeks=4),
                                     status="draft")
        proposals.book_proposal(proposals.propose(booked.id, dict(FAST), caller=factories.CALLER).id,
                                caller=factories.CALLER)
        ids = {"patient_id": patient.id, "physio_id": physio.id, "draft_id": draft.id,
               "proposal_id": proposal.id, "booked_id": booked.id,
               "hold_start": proposal.holds[0].starts_at}
    ids["intake_id"] = _red_flag(client, desk, ids["patient_id"])
    ids["desk"] = desk
    return ids


def test_a_plan_without_an_intake_is_refused_for_a_red_flag(client, auth, app):
    desk = auth("front_desk")
    with app.app_context():
        factories.protocols()
        patient_id = factories.patient().id
    intake_id = _red_flag(client, desk, patient_id)
    answer = client.post("/api/v1/plans", headers=desk,
                         json={"patient_id": patient_id, "region": "lumbar", "severity": "moderate"})
    _refused_for_red_flag(answer, intake_id)
    with app.app_context():
        assert _count(CarePlan) == 0


def test_an_older_clear_intake_does_not_get_around_a_newer_red_flag(client, auth, app):
    desk = auth("front_desk")
    with app.app_context():
        factories.protocols()
        patient_id = factories.patient().id
    clear = client.post(f"/api/v1/patients/{patient_id}/intakes", headers=desk, json=factories.intake_body())
    assert clear.status_code == 201
    intake_id = _red_flag(client, desk, patient_id)
    _refused_for_red_flag(client.post("/api/v1/plans", headers=desk, json={"intake_id": clear.get_json()["id"]}),
                          intake_id)
    # A newer clear screen (the flag was a mistake, asked again) lets care go ahead.
    again = client.post(f"/api/v1/patients/{patient_id}/intakes", headers=desk, json=factories.intake_body())
    assert client.post("/api/v1/plans", headers=desk, json={"intake_id": again.get_json()["id"]}).status_code == 201


def test_no_proposal_no_booking_no_plan_session_while_the_flag_stands(client, app, red_flagged):
    desk, intake_id = red_flagged["desk"], red_flagged["intake_id"]
    _refused_for_red_flag(client.post(f"/api/v1/plans/{red_flagged['draft_id']}/proposals", headers=desk,
                                      json=FAST), intake_id)
    _refused_for_red_flag(client.post(f"/api/v1/proposals/{red_flagged['proposal_id']}/book", headers=desk),
                          intake_id)
    _refused_for_red_flag(client.post(f"/api/v1/plans/{red_flagged['booked_id']}/replans", headers=desk,
                                      json=FAST), intake_id)
    session = {"patient_id": red_flagged["patient_id"], "provider_id": red_flagged["physio_id"],
               "discipline": "physiotherapy", "start": red_flagged["hold_start"].isoformat(), "minutes": 45,
               "plan_id": red_flagged["draft_id"], "phase": "acute", "week": 0}
    _refused_for_red_flag(client.post("/api/v1/appointments", headers=desk, json=session), intake_id)
    with app.app_context():
        assert db.session.get(CarePlan, red_flagged["draft_id"]).status == "draft"
        assert _count(Appointment, Appointment.plan_id == red_flagged["draft_id"]) == 0
        assert _count(Proposal, Proposal.plan_id == red_flagged["draft_id"]) == 1
        assert _count(Proposal, Proposal.plan_id == red_flagged["booked_id"]) == 1


def test_an_override_opens_every_path_again(client, app, auth, red_flagged):
    desk = red_flagged["desk"]
    done = client.post(f"/api/v1/intakes/{red_flagged['intake_id']}/override", headers=auth("admin"),
                       json={"reason": REASON})
    assert done.status_code == 200, done.get_json()
    booked = client.post(f"/api/v1/proposals/{red_flagged['proposal_id']}/book", headers=desk)
    assert booked.status_code == 200, booked.get_json()
    plan = client.post("/api/v1/plans", headers=desk, json={"patient_id": red_flagged["patient_id"],
                                                            "region": "lumbar", "severity": "moderate"})
    assert plan.status_code == 201, plan.get_json()


def test_a_red_flag_keeps_the_patients_plans_out_of_the_backfill_list(app, client, red_flagged):
    from careplan.proposals.backfill import backfill_candidates

    with app.app_context():
        # The red-flagged patient's booked plan misses one session; another patient frees that very slot.
        missing = db.session.scalars(select(Appointment).where(Appointment.plan_id == red_flagged["booked_id"])
                                     .order_by(Appointment.starts_at)).first()
        missing.status = "cancelled"
        db.session.commit()
        freed = factories.appointment(factories.patient(), red_flagged["physio_id"], missing.starts_at,
                                      status="cancelled")
        candidates = backfill_candidates(freed.id, now=freed.starts_at - timedelta(days=3), caller=factories.CALLER)
        assert [c for c in candidates if c["plan_id"] == red_flagged["booked_id"]] == []


def test_the_desk_pages_say_why_nothing_is_scheduled(client, app, red_flagged):
    desk = red_flagged["desk"]
    page = client.post(f"/desk/plans/{red_flagged['draft_id']}/proposals", headers=desk,
                       data={"time_limit": "3", "deterministic": "on"})
    assert page.status_code == 422 and "Urgent medical care is needed" in page.text
    page = client.post(f"/desk/proposals/{red_flagged['proposal_id']}/book", headers=desk)
    assert page.status_code == 422 and "Urgent medical care is needed" in page.text
    with app.app_context():
        assert db.session.get(CarePlan, red_flagged["draft_id"]).status == "draft"
        assert db.session.scalar(select(Intake.screen_result)) == "red_flag"
