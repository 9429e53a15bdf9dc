"""Every date and time anyone enters lies in plausible years, checked before anything is written.

A time off or a note dated in year 0001 used to be saved, answer 500, and then break every read of its
provider or patient (turning it into the clinic's zone overflows)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from careplan.extensions import db
from careplan.fhir.slots import parse_slot_id
from careplan.notes.models import Note
from careplan.providers.models import ProviderTimeOff as TimeOff
from tests import factories
from tests.web.conftest import csrf_from


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("start, end", [("0001-01-01T09:00:00+00:00", "0001-01-02T09:00:00+00:00"),
                                        ("1899-12-31T09:00:00-05:00", "2027-01-02T09:00:00-05:00"),
                                        ("2027-01-01T09:00:00-05:00", "9999-12-31T23:00:00-05:00")])
def test_time_off_outside_the_plausible_years_is_422_and_not_saved(client, app, auth, start, end):
    with app.app_context():
        provider_id = factories.provider().id
    headers = auth("admin")
    response = client.post(f"/api/v1/providers/{provider_id}/time-off", headers=headers,
                           json={"start": start, "end": end, "reason": "Course"})
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {name for name, value in (("start", start), ("end", end)) if not value.startswith("2027")}
    assert "1900 and 2200" in next(iter(fields.values()))
    assert _count(app, TimeOff) == 0
    # The provider stays readable.
    assert client.get(f"/api/v1/providers/{provider_id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/providers/{provider_id}/time-off", headers=headers).get_json() == []


def test_a_note_dated_year_0001_is_422_and_not_saved(client, app):
    with app.app_context():
        patient = factories.patient()
        physio = factories.provider()
        factories.appointment(patient.id, physio.id)
        headers = factories.bearer(factories.user("provider", provider_id=physio.id))
        patient_id = patient.id
    response = client.post(f"/api/v1/patients/{patient_id}/notes", headers=headers, json={
        "subjective": "Sleeps better.", "objective": "SLR 60.", "assessment": "Improving.", "plan": "Continue.",
        "noted_at": "0001-01-01T00:00:00+00:00"})
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"noted_at"}
    assert _count(app, Note) == 0
    assert client.get(f"/api/v1/patients/{patient_id}/notes", headers=headers).status_code == 200


def test_dates_without_a_time_have_the_same_range(client, auth):
    headers = auth("front_desk")
    response = client.post("/api/v1/patients", headers=headers, json={
        "name": "Ada Old", "email": "ada@mail.example", "date_of_birth": "0001-01-01"})
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"date_of_birth"}
    far = client.post("/api/v1/plans", headers=headers, json={
        "patient_id": 1, "region": "lumbar", "severity": "moderate", "start_date": "9999-12-31"})
    assert far.status_code == 422 and "start_date" in far.get_json()["error"]["fields"]


def test_search_bounds_have_the_same_range(client, auth):
    headers = auth("admin")
    response = client.get("/api/v1/appointments?from=0001-01-01T00:00:00%2B00:00", headers=headers)
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"from"}
    audit = client.get("/api/v1/audit?to=9999-12-31T23:59:59%2B00:00", headers=headers)
    assert audit.status_code == 422 and set(audit.get_json()["error"]["fields"]) == {"to"}


def test_the_time_off_form_refuses_year_0001_with_its_page(client, app, auth):
    with app.app_context():
        provider_id = factories.provider().id
    desk = auth("front_desk")
    page = client.get(f"/admin/providers/{provider_id}", headers=desk)
    response = client.post(f"/admin/providers/{provider_id}/time-off", headers=desk, data={
        "csrf_token": csrf_from(page.text), "start": "0001-01-01T08:00", "end": "0001-01-02T08:00",
        "reason": "Course"})
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert "1900 and 2200" in response.text
    assert _count(app, TimeOff) == 0
    assert client.get(f"/admin/providers/{provider_id}", headers=desk).status_code == 200


@pytest.mark.parametrize("search", ["Appointment?date=ge0001-01-01", "Appointment?date=lt9999",
                                    "Slot?start=ge0001-01-01T00:00:00Z", "Slot?start=ge2201-01"])
def test_fhir_date_searches_far_in_the_past_or_future_are_400(client, auth, search):
    response = client.get(f"/fhir/{search}", headers=auth("admin"))
    assert response.status_code == 400
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome" and "1900 and 2200" in outcome["issue"][0]["diagnostics"]


def test_slot_ids_name_at_most_a_day_in_plausible_years(client, app, auth):
    with app.app_context():
        provider_id = factories.provider().id
    assert parse_slot_id(f"{provider_id}-202703121300-202703121400") == (
        provider_id, datetime(2027, 3, 12, 13, tzinfo=UTC), datetime(2027, 3, 12, 14, tzinfo=UTC))
    # A span of years would make the read recompute every day in between.
    assert parse_slot_id(f"{provider_id}-190001010000-220012310000") is None
    assert parse_slot_id(f"{provider_id}-202703121300-202703131301") is None
    started = datetime.now(UTC)
    for slot_id in (f"{provider_id}-000101010000-000101010100", f"{provider_id}-190001010000-220012310000"):
        response = client.get(f"/fhir/Slot/{slot_id}", headers=auth("admin"))
        assert response.status_code == 404, response.get_json()
    assert datetime.now(UTC) - started < timedelta(seconds=5)


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/clinic", {"hold_minutes": 30.5}, "hold_minutes"),
    ("/api/v1/clinic", {"transition_minutes": 10.25}, "transition_minutes"),
])
def test_fractional_numbers_are_422_not_cut_down(client, auth, path, body, field):
    headers = auth("admin")
    before = client.get(path, headers=headers).get_json()
    response = client.patch(path, json=body, headers=headers)
    assert response.status_code == 422 and response.get_json()["error"]["fields"] == {field: "must be a whole number"}
    assert client.get(path, headers=headers).get_json() == before
    assert client.patch(path, json={field: 30.0}, headers=headers).get_json()[field] == 30


def test_fractional_minutes_in_a_query_are_422(client, app, auth):
    with app.app_context():
        provider_id = factories.provider().id
    response = client.get(f"/api/v1/providers/{provider_id}/free-slots?start=2027-03-01T00:00:00-05:00"
                          f"&end=2027-03-02T00:00:00-05:00&minutes=30.5", headers=auth("front_desk"))
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"minutes"}
