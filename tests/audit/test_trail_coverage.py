"""The trail covers every capability that touches a patient's record: plans, intakes, appointments (booked,
changed, read, listed, and through an e-mail link), calendar feeds and e-mails to patients; and a provider sees
the schedule of the patients whose care team they are on, but marks only their own appointments."""
from __future__ import annotations

from sqlalchemy import select

from careplan.audit.models import AuditEvent
from careplan.extensions import db
from careplan.reminders.links import link_token
from careplan.scheduling.models import Appointment
from tests import factories

MONDAY = "2027-03-15T09:00:00-04:00"


def _trail(app, resource: str) -> list[tuple]:
    with app.app_context():
        return [(e.action, e.resource_id, e.patient_id, e.role) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.resource == resource).order_by(AuditEvent.id))]


def test_plans_and_intakes_are_audited_from_the_screen_to_every_version(app, client, auth):
    with app.app_context():
        factories.protocols()
        patient_id = factories.patient().id
    desk = auth("front_desk")
    intake = client.post(f"/api/v1/patients/{patient_id}/intakes", headers=desk, json=factories.intake_body())
    assert intake.status_code == 201, intake.get_json()
    intake_id = intake.get_json()["id"]
    assert client.get(f"/api/v1/intakes/{intake_id}", headers=desk).status_code == 200
    assert client.get(f"/api/v1/patients/{patient_id}/intakes", headers=desk).status_code == 200
    plan = client.post("/api/v1/plans", headers=desk, json={"intake_id": intake_id, "start_date": "2027-03-01"})
    assert plan.status_code == 201, plan.get_json()
    plan_id = plan.get_json()["id"]
    revised = client.patch(f"/api/v1/plans/{plan_id}", headers=desk,
                           json={"start_date": "2027-03-08", "reason": "patient away the first week"})
    assert revised.status_code == 200, revised.get_json()
    for path in ("", "/versions", "/stale-appointments", "/problem"):
        assert client.get(f"/api/v1/plans/{plan_id}{path}", headers=desk).status_code == 200
    assert client.get("/api/v1/plans", headers=desk).status_code == 200

    assert [(a, i, p) for a, i, p, _ in _trail(app, "intake")] == [
        ("create", str(intake_id), patient_id), ("read", str(intake_id), patient_id), ("read", "", patient_id)]
    plan_rows = [(a, i, p) for a, i, p, _ in _trail(app, "plan")]
    assert plan_rows[:2] == [("create", str(plan_id), patient_id), ("update", str(plan_id), patient_id)]
    assert plan_rows[2:6] == [("read", str(plan_id), patient_id)] * 4
    assert plan_rows[6] == ("read", "", None)


def test_appointments_are_audited_however_they_change(app, client, auth):
    with app.app_context():
        provider_id = factories.provider(hours="mon-fri 08:00-16:00").id
        patient_id = factories.patient().id
    desk, own = auth("front_desk"), auth("patient", patient_id=patient_id)
    booked = client.post("/api/v1/appointments", headers=desk, json={
        "patient_id": patient_id, "provider_id": provider_id, "discipline": "physiotherapy", "start": MONDAY,
        "minutes": 45})
    assert booked.status_code == 201, booked.get_json()
    appointment_id = booked.get_json()["id"]
    assert client.get(f"/api/v1/appointments/{appointment_id}", headers=own).status_code == 200
    assert client.get("/api/v1/appointments", headers=own).status_code == 200
    moved = client.patch(f"/api/v1/appointments/{appointment_id}", headers=desk,
                         json={"start": "2027-03-15T10:00:00-04:00"})
    assert moved.status_code == 200, moved.get_json()
    with app.app_context():
        token = link_token(db.session.get(Appointment, appointment_id), "confirm")
    assert client.post(f"/api/v1/appointment-links/{token}", json={}).status_code == 200
    cancelled = client.patch(f"/api/v1/appointments/{appointment_id}", headers=own,
                             json={"status": "cancelled", "reason": "flu"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert [(a, r) for a, _, _, r in _trail(app, "appointment")] == [
        ("create", "front_desk"), ("read", "patient"), ("read", "patient"), ("update", "front_desk"),
        ("read", ""), ("update", ""), ("update", "patient")]
    assert {p for _, _, p, _ in _trail(app, "appointment")} == {patient_id}


def test_a_provider_reads_the_care_teams_schedule_and_marks_only_their_own(app, client):
    with app.app_context():
        patient = factories.patient()
        physio, masseur = factories.provider(), factories.provider(disciplines=("massage",))
        stranger_patient = factories.patient()
        mine = factories.appointment(patient, physio, days_ahead=-1).id
        theirs = factories.appointment(patient, masseur, discipline="massage", days_ahead=-2).id
        elsewhere = factories.appointment(stranger_patient, masseur, discipline="massage", days_ahead=-3).id
        headers = factories.bearer(factories.user("provider", provider_id=physio.id))
        physio_id, patient_id, stranger_id = physio.id, patient.id, stranger_patient.id
    listed = client.get("/api/v1/appointments", headers=headers).get_json()
    assert sorted(a["id"] for a in listed) == sorted([mine, theirs])
    own_schedule = client.get("/api/v1/appointments", headers=headers, query_string={"provider_id": physio_id})
    assert [a["id"] for a in own_schedule.get_json()] == [mine]
    assert client.get(f"/api/v1/appointments/{theirs}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/appointments/{elsewhere}", headers=headers).status_code == 404
    refused = client.patch(f"/api/v1/appointments/{theirs}", headers=headers, json={"status": "completed"})
    assert refused.status_code == 403
    done = client.patch(f"/api/v1/appointments/{mine}", headers=headers, json={"status": "completed"})
    assert done.status_code == 200, done.get_json()
    denied = [(i, p) for a, i, p, _ in _trail(app, "appointment") if a == "denied"]
    assert denied == [(str(elsewhere), stranger_id), (str(theirs), patient_id)]


def test_calendar_feeds_and_patient_emails_are_audited(app, client, auth):
    with app.app_context():
        patient_id = factories.patient().id
        factories.appointment(patient_id)
    desk, own = auth("front_desk"), auth("patient", patient_id=patient_id)
    made = client.post(f"/api/v1/patients/{patient_id}/calendar-feed", headers=own)
    assert made.status_code == 201
    assert client.get(f"/api/v1/patients/{patient_id}/calendar-feed", headers=desk).status_code == 200
    assert client.get(made.get_json()["url"].split("localhost", 1)[-1]).status_code == 200
    assert client.get("/calendar/not-a-feed.ics").status_code == 404
    assert client.delete(f"/api/v1/patients/{patient_id}/calendar-feed", headers=own).status_code == 204
    assert [(a, p, r) for a, _, p, r in _trail(app, "calendar_feed")] == [
        ("create", patient_id, "patient"), ("read", patient_id, "front_desk"), ("read", patient_id, ""),
        ("denied", None, ""), ("delete", patient_id, "patient")]
    assert client.get("/api/v1/reminders", headers=desk, query_string={"patient_id": patient_id}).status_code == 200
    assert [(a, p) for a, _, p, _ in _trail(app, "reminder")] == [("read", patient_id)]
