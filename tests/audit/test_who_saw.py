"""`who_saw(patient_id)`: every read of a patient's data is on the trail with the patient named, whatever the
answer and however it was shown: lists, searches, the desk's pages, FHIR, backfill candidates, e-mail link
pages, an absence's affected appointments, a page answered with an error."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from careplan.audit.service import who_saw
from careplan.clinic import service as clinic
from careplan.reminders.links import link_token
from careplan.scheduling import service as scheduling
from tests import factories

MONDAY = datetime(2027, 3, 1).date()


@pytest.fixture
def seen(app, monkeypatch):
    """Martha with an appointment later today with a physiotherapist; Omar, whom nobody looks at; a desk user.
    The clinic's day has hours ahead of it whenever the suite runs (after 23:00 in Toronto Martha's session had
    begun: it was no longer affected by an absence, nor hers to move)."""
    factories.clinic_morning(app, monkeypatch)
    with app.app_context():
        physio = factories.provider(hours="mon-sun 00:00-23:45")
        martha = factories.patient(name="Martha Kowalski")
        omar = factories.patient(name="Omar Haddad")
        today = datetime.now(clinic.zone()).date()
        later_today = datetime.combine(today, time(23, 0), tzinfo=clinic.zone())
        appointment = factories.appointment(martha, physio, later_today.astimezone(timezone.utc), minutes=30)
        desk = factories.user("front_desk")
        clinician = factories.user("provider", provider_id=physio.id)
        return {"martha": martha.id, "omar": omar.id, "physio": physio.id, "appointment": appointment.id,
                "desk": desk.id, "desk_headers": factories.bearer(desk), "clinician": clinician.id,
                "clinician_headers": factories.bearer(clinician)}


def _seen_by(app, patient_id) -> set[tuple]:
    with app.app_context():
        return {(event.user_id, event.action, event.resource) for event in who_saw(patient_id)}


def test_the_api_lists_name_every_patient_they_returned(app, client, seen):
    assert client.get("/api/v1/appointments", headers=seen["desk_headers"]).status_code == 200
    assert client.get("/api/v1/patients", headers=seen["desk_headers"]).status_code == 200
    martha = _seen_by(app, seen["martha"])
    assert {(seen["desk"], "read", "appointment"), (seen["desk"], "read", "patient")} <= martha
    # Omar has no appointment: the appointment list did not show him, the patient list did.
    assert _seen_by(app, seen["omar"]) == {(seen["desk"], "read", "patient"), (None, "create", "patient")}


def test_a_fhir_search_names_the_patients_it_returned(app, client, seen):
    response = client.get("/fhir/Appointment", headers=seen["desk_headers"])
    assert response.status_code == 200 and response.get_json()["total"] == 1
    assert (seen["desk"], "read", "fhir:Appointment") in _seen_by(app, seen["martha"])
    assert (seen["desk"], "read", "fhir:Appointment") not in _seen_by(app, seen["omar"])


def test_the_desks_day_and_patient_search_name_the_patients_shown(app, client, seen):
    assert client.get("/desk", headers=seen["desk_headers"]).status_code == 200
    assert (seen["desk"], "read", "page") in _seen_by(app, seen["martha"])
    assert client.get("/desk/patients?q=Omar", headers=seen["desk_headers"]).status_code == 200
    assert (seen["desk"], "read", "patient") in _seen_by(app, seen["omar"])
    assert (seen["desk"], "read", "patient") not in _seen_by(app, seen["martha"])


def test_backfill_candidates_name_the_patients_offered(app, client, seen):
    with app.app_context():
        waiting = factories.care_plan(factories.patient(), {"physiotherapy": factories.provider()}, start=MONDAY)
        physio = waiting.care_team[0].provider_id
        freed = factories.appointment(factories.patient(), physio, clinic.local_datetime(MONDAY + timedelta(days=2),
                                                                                         time(10)))
        scheduling.update_appointment(freed.id, {"status": "cancelled", "reason": "flu"}, caller=factories.CALLER)
        waiting_patient, freed_id = waiting.patient_id, freed.id
    candidates = client.get(f"/api/v1/appointments/{freed_id}/backfill", headers=seen["desk_headers"])
    assert [c["patient_id"] for c in candidates.get_json()] == [waiting_patient]
    assert (seen["desk"], "read", "appointment") in _seen_by(app, waiting_patient)


def test_the_e_mail_link_page_is_a_read_of_the_appointment(app, client, seen):
    with app.app_context():
        from careplan.extensions import db
        from careplan.scheduling.models import Appointment

        token = link_token(db.session.get(Appointment, seen["appointment"]), "confirm")
    assert client.get(f"/api/v1/appointment-links/{token}").status_code == 200
    assert (None, "read", "appointment") in _seen_by(app, seen["martha"])


def test_an_absences_affected_appointments_name_their_patients(app, client, seen):
    with app.app_context():
        from careplan.providers.service import add_time_off

        today = datetime.now(clinic.zone()).date()
        start = datetime.combine(today, time(0), tzinfo=clinic.zone())
        absence = add_time_off(seen["physio"], {"starts_at": start, "ends_at": start + timedelta(days=1)}).time_off.id
    affected = client.get(f"/api/v1/providers/{seen['physio']}/time-off/{absence}/affected-appointments",
                          headers=seen["desk_headers"])
    assert [a["id"] for a in affected.get_json()] == [seen["appointment"]]
    assert (seen["desk"], "read", "appointment") in _seen_by(app, seen["martha"])


def test_notes_shown_on_a_page_that_answers_422_stay_on_the_trail(app, client, seen):
    written = client.post(f"/api/v1/patients/{seen['martha']}/notes", headers=seen["clinician_headers"],
                          json={"subjective": "Pain 5/10."})
    assert written.status_code == 201
    before = _seen_by(app, seen["martha"])
    refused = client.post(f"/me/patients/{seen['martha']}", headers=seen["clinician_headers"], data={"subjective": " "})
    assert refused.status_code == 422 and "Pain 5/10." in refused.text
    with app.app_context():
        events = [e for e in who_saw(seen["martha"]) if e.resource == "note" and "answered 422" in e.detail]
    assert len(events) == 1 and events[0].user_id == seen["clinician"]
    assert (seen["clinician"], "read", "note") not in before


def test_a_refusal_is_no_sight_of_the_record(app, client, seen, auth):
    outsider = client.get(f"/api/v1/patients/{seen['martha']}", headers=auth("patient"))
    assert outsider.status_code == 404
    assert all(action != "denied" for _, action, _ in _seen_by(app, seen["martha"]))


def test_an_administrator_asks_who_saw_a_patient(app, client, seen, auth):
    assert client.get("/api/v1/patients", headers=seen["desk_headers"]).status_code == 200
    admin = auth("admin")
    answer = client.get(f"/api/v1/audit/patients/{seen['omar']}/seen", headers=admin)
    assert answer.status_code == 200
    assert [(e["user_id"], e["action"], e["resource"]) for e in answer.get_json()] == [
        (None, "create", "patient"), (seen["desk"], "read", "patient")]
    assert seen["omar"] in answer.get_json()[1]["patients"]
    assert client.get(f"/api/v1/audit/patients/{seen['omar']}/seen", headers=seen["desk_headers"]).status_code == 403


def test_a_service_called_by_a_worker_audits_without_a_request(app, seen):
    """No request context at all: the caller says who and from where, and the row keeps it."""
    from careplan.caller import Caller
    from careplan.extensions import db
    from careplan.proposals import service as proposals

    with app.app_context():
        from careplan.patients.models import Patient
        from careplan.providers.models import Provider

        plan = factories.care_plan(db.session.get(Patient, seen["martha"]),
                                   {"physiotherapy": db.session.get(Provider, seen["physio"])}, status="draft")
        proposals.list_proposals(plan.id, caller=Caller.system("worker"))
        db.session.commit()
        [event] = [e for e in who_saw(seen["martha"]) if e.resource == "proposal"]
        assert (event.user_id, event.origin, event.action) == (None, "worker", "read")


def test_the_trail_says_where_a_request_came_from(app, client, seen):
    client.get("/api/v1/appointments", headers=seen["desk_headers"])
    client.get("/desk", headers=seen["desk_headers"])
    with app.app_context():
        origins = {(e.resource, e.origin) for e in who_saw(seen["martha"]) if e.user_id == seen["desk"]}
    assert origins == {("appointment", "api"), ("page", "web")}


def test_a_patient_reading_their_own_session_is_on_the_trail_too(app, client, seen):
    """The portal's move and cancel pages and the API's alternatives show one session: each is a read."""
    with app.app_context():
        patient = factories.user("patient", patient_id=seen["martha"])
        headers, user_id = factories.bearer(patient), patient.id
    appointment = seen["appointment"]
    for path in (f"/my/appointments/{appointment}/move", f"/my/appointments/{appointment}/cancel",
                 f"/api/v1/me/appointments/{appointment}/alternatives"):
        assert client.get(path, headers=headers).status_code == 200, path
    with app.app_context():
        reads = [e for e in who_saw(seen["martha"])
                 if e.user_id == user_id and e.action == "read" and e.resource == "appointment"]
    assert len(reads) == 3
