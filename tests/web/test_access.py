"""Who opens which page, and how refusals look: redirects, 403 and 404 pages, CSRF, the JSON API unchanged."""
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from careplan.extensions import db
from careplan.patients.models import Patient
from tests import factories
from tests.web.conftest import book, csrf_from


def test_anonymous_visitors_are_sent_to_sign_in_and_back(client):
    response = client.get("/desk/patients?q=ann")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fdesk%2Fpatients%3Fq%3Dann"
    assert client.get("/").headers["Location"] == "/login"


def test_each_role_starts_on_its_own_page(client, auth):
    for role, start in (("front_desk", "/desk/calendar"), ("admin", "/desk/calendar"), ("provider", "/me/day"),
                        ("patient", "/my/appointments")):
        response = client.get("/", headers=auth(role))
        assert response.headers["Location"] == start
        assert client.get(start, headers=auth(role)).status_code == 200


def test_a_page_of_another_role_answers_the_403_page(client, auth):
    patient = auth("patient")
    for path in ("/desk", "/desk/patients", "/me/day", "/admin/providers"):
        response = client.get(path, headers=patient)
        assert response.status_code == 403, path
        assert response.mimetype == "text/html"
        assert "Not part of your work here" in response.text
    assert client.get("/my/plan", headers=auth("front_desk")).status_code == 403
    assert client.get("/admin/providers/new", headers=auth("front_desk")).status_code == 403


def test_a_clinician_sees_only_patients_of_their_care_team(client, app, auth):
    with app.app_context():
        clinician = factories.provider()
        mine, stranger = factories.patient(), factories.patient()
        book(mine.id, clinician.id, "physiotherapy", datetime(2027, 1, 12, 14, tzinfo=UTC))
        ids = (clinician.id, mine.id, stranger.id)
    headers = auth("provider", provider_id=ids[0])
    assert client.get(f"/me/patients/{ids[1]}", headers=headers).status_code == 200
    outside = client.get(f"/me/patients/{ids[2]}", headers=headers)
    assert outside.status_code == 404 and outside.mimetype == "text/html"
    assert "Nothing to show here" in outside.text
    assert client.get("/me/patients/999999", headers=headers).status_code == 404


def test_error_pages_are_html_while_the_api_keeps_answering_json(client, auth):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    api = client.get("/api/v1/patients/999999", headers=auth("front_desk"))
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"
    assert client.get("/api/v1/patients").json["error"]["code"] == "unauthenticated"


def test_times_show_in_the_clinic_zone(client, app, auth):
    with app.app_context():
        clinician, patient = factories.provider(name="Ana Moreau"), factories.patient(name="Robert Chen")
        # 14:00 UTC on a January day is 09:00 in Toronto.
        book(patient.id, clinician.id, "physiotherapy", datetime(2027, 1, 12, 14, tzinfo=UTC))
    page = client.get("/desk?day=2027-01-12", headers=auth("front_desk")).text
    assert "Tuesday 12 January 2027" in page
    assert ">09:00<" in page and "14:00" not in page


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, app):
    with app.app_context():
        desk = factories.user("front_desk", password="correct horse battery")
        email = desk.email
    signed_in = client.post("/login", data={"csrf_token": csrf_from(client.get("/login").text),
                                            "email": email, "password": "correct horse battery"})
    assert signed_in.status_code == 302
    response = client.post("/desk/patients/new", data={"name": "Eve", "email": "eve@mail.example"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Patient)) == 0


def test_a_refused_form_shows_each_error_beside_its_field_and_saves_nothing(client, app, auth):
    headers = auth("front_desk")
    with app.app_context():
        patient_id = factories.patient(name="Grace Obi", hours="tue 09:00-14:00").id
    token = csrf_from(client.get(f"/desk/patients/{patient_id}", headers=headers).text)
    response = client.post(f"/desk/patients/{patient_id}", headers=headers, data={
        "csrf_token": token, "name": "", "email": "grace.obi@mail.example",
        "availability-0-day": "tue", "availability-0-start": "09:00", "availability-0-end": "14:00",
        "availability-1-day": "", "availability-1-start": "", "availability-1-end": "",
        "availability-2-day": "thu", "availability-2-start": "15:00", "availability-2-end": "11:00"})
    assert response.status_code == 422
    html = response.text
    assert '<p class="field-error" id="name-error"><span class="visually-hidden">Error:</span> Required.</p>' in html
    assert 'id="availability-1-end-error">must be after start<' in html  # the blank row is dropped
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        assert patient.name == "Grace Obi"
        assert [(w.day, f"{w.start:%H:%M}") for w in patient.availability] == [(1, "09:00")]


def test_the_front_desk_reads_providers_but_only_an_admin_edits_them(client, app, auth):
    with app.app_context():
        provider_id = factories.provider(name="Priya Raman").id
    desk = auth("front_desk")
    page = client.get(f"/admin/providers/{provider_id}", headers=desk)
    assert page.status_code == 200 and "Working hours (an administrator changes them)" in page.text
    refused = client.post(f"/admin/providers/{provider_id}", headers=desk,
                          data={"csrf_token": csrf_from(page.text), "name": "Someone else"})
    assert refused.status_code == 403
    # The front desk does record absences.
    added = client.post(f"/admin/providers/{provider_id}/time-off", headers=desk, data={
        "csrf_token": csrf_from(page.text), "start": "2027-01-12T08:00", "end": "2027-01-13T08:00",
        "reason": "Course"})
    assert added.status_code == 302
    with app.app_context():
        from careplan.providers.models import Provider

        (absence,) = db.session.get(Provider, provider_id).time_off
        assert absence.starts_at == datetime(2027, 1, 12, 13, tzinfo=UTC)
        assert absence.ends_at.date() == date(2027, 1, 13)


def test_form_text_no_database_can_store_is_refused_with_a_page(client, app, auth):
    headers = auth("front_desk")
    token = csrf_from(client.get("/desk/patients/new", headers=headers).text)
    response = client.post("/desk/patients/new", headers=headers,
                           data={"csrf_token": token, "name": "Eve\x00", "email": "eve@mail.example"})
    assert response.status_code == 422 and response.mimetype == "text/html"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Patient)) == 0


def test_a_bug_on_a_page_answers_the_500_page_without_internals(client, auth, monkeypatch):
    from careplan.plans import service as plans

    def broken():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(plans, "plans_waiting", broken)
    response = client.get("/desk", headers=auth("front_desk"))
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Something went wrong on our side" in response.text and "secret" not in response.text


def test_pages_of_a_patient_and_refused_pages_are_audited(client, app, auth):
    from careplan.audit.models import AuditEvent

    with app.app_context():
        clinician = factories.provider()
        mine, stranger = factories.patient(), factories.patient()
        book(mine.id, clinician.id, "physiotherapy", datetime(2027, 1, 12, 14, tzinfo=UTC))
        ids = (clinician.id, mine.id, stranger.id)
        start = db.session.scalar(select(func.max(AuditEvent.id)))
    provider = auth("provider", provider_id=ids[0])
    assert client.get(f"/me/patients/{ids[1]}", headers=provider).status_code == 200
    assert client.get(f"/me/patients/{ids[2]}", headers=provider).status_code == 404
    assert client.get(f"/desk/patients/{ids[2]}", headers=auth("front_desk")).status_code == 200
    assert client.get("/my/plan", headers=auth("patient", patient_id=ids[1])).status_code == 200
    assert client.get("/desk", headers=provider).status_code == 403
    assert client.get("/desk").status_code == 302
    with app.app_context():
        rows = [(e.action, e.resource, e.patient_id, e.role) for e in
                db.session.scalars(select(AuditEvent).where(AuditEvent.id > start).order_by(AuditEvent.id))]
    assert rows == [("read", "patient", ids[1], "provider"), ("read", "note", ids[1], "provider"),
                    ("denied", "patient", ids[2], "provider"),
                    ("read", "patient", ids[2], "front_desk"), ("read", "patient", ids[1], "patient"),
                    ("denied", "page", None, "provider"), ("denied", "page", None, "")]
