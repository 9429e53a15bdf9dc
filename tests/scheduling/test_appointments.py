"""Single appointments over HTTP and through the service: the rules, moves, cancellations, who may do what."""
from datetime import datetime, timedelta, timezone

import pytest

from careplan.errors import Conflict, Invalid
from careplan.extensions import db
from careplan.scheduling import service
from careplan.scheduling.models import Appointment
from tests import factories

# Mondays and Fridays well in the future, around the 2027 spring change (Sunday 14 March in Toronto).
FRI_BEFORE_DST = "2027-03-12"
MON_AFTER_DST = "2027-03-15"


@pytest.fixture
def people(app):
    with app.app_context():
        provider = factories.provider(disciplines=("physiotherapy", "massage"), hours="mon-fri 08:00-16:00")
        return {"provider": provider.id, "patient": factories.patient().id, "other_patient": factories.patient().id}


def body(people, start=f"{MON_AFTER_DST}T09:00:00-04:00", minutes=45, **extra):
    return {"patient_id": people["patient"], "provider_id": people["provider"], "discipline": "physiotherapy",
            "start": start, "minutes": minutes, **extra}


def test_book_answers_the_appointment_in_clinic_time(client, auth, people):
    response = client.post("/api/v1/appointments", json=body(people), headers=auth("front_desk"))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["id"] > 0
    assert data["start"] == "2027-03-15T09:00:00-04:00"
    assert data["end"] == "2027-03-15T09:45:00-04:00"
    assert (data["status"], data["sequence"], data["discipline"]) == ("booked", 0, "physiotherapy")
    again = client.get(f"/api/v1/appointments/{data['id']}", headers=auth("admin"))
    assert again.get_json() == data


def test_nine_local_is_inside_the_window_on_both_sides_of_the_dst_change(client, auth, people):
    headers = auth("front_desk")
    for start in (f"{FRI_BEFORE_DST}T09:00:00-05:00", f"{MON_AFTER_DST}T09:00:00-04:00"):
        assert client.post("/api/v1/appointments", json=body(people, start), headers=headers).status_code == 201
    # 07:30 in Toronto after the change; it would be 08:30 if the window were applied with last week's offset.
    early = client.post("/api/v1/appointments", json=body(people, f"{MON_AFTER_DST}T11:30:00Z"), headers=headers)
    assert early.status_code == 422
    assert "working hours" in early.get_json()["error"]["fields"]["start"]


def test_overlap_with_provider_or_patient_is_a_conflict_naming_the_appointment(client, auth, people):
    headers = auth("front_desk")
    first = client.post("/api/v1/appointments", json=body(people), headers=headers).get_json()
    same_provider = body(people, f"{MON_AFTER_DST}T09:30:00-04:00", patient_id=people["other_patient"])
    response = client.post("/api/v1/appointments", json=same_provider, headers=headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict"
    assert error["conflicting_appointment_ids"] == [first["id"]]
    assert f"appointment {first['id']}" in error["fields"]["start"]

    other = client.post("/api/v1/providers", json={"name": "M", "email": "m@clinic.example", "disciplines": ["massage"],
                                                    "availability": [{"day": "mon", "start": "08:00", "end": "16:00"}]},
                        headers=auth("admin")).get_json()
    same_patient = body(people, f"{MON_AFTER_DST}T09:15:00-04:00", provider_id=other["id"], discipline="massage")
    response = client.post("/api/v1/appointments", json=same_patient, headers=headers)
    assert response.status_code == 409
    assert "patient is busy" in response.get_json()["error"]["fields"]["start"]
    # Back to back is fine.
    after = body(people, f"{MON_AFTER_DST}T09:45:00-04:00")
    assert client.post("/api/v1/appointments", json=after, headers=headers).status_code == 201


@pytest.mark.parametrize("change, field, words", [
    ({"discipline": "nutrition"}, "discipline", "does not give"),
    ({"discipline": "astrology"}, "discipline", "unknown"),
    ({"start": f"{MON_AFTER_DST}T09:05:00-04:00"}, "start", "grid"),
    ({"minutes": 50.5}, "minutes", "whole number of minutes"),
    ({"minutes": 0}, "minutes", "between 5 and 480"),
    ({"minutes": -15}, "minutes", "between 5 and 480"),
    ({"minutes": 481}, "minutes", "between 5 and 480"),
    ({"start": f"{MON_AFTER_DST}T15:30:00-04:00"}, "start", "working hours"),
    ({"start": "2027-03-13T09:00:00-05:00"}, "start", "working hours"),
    ({"start": f"{MON_AFTER_DST}T09:00:00"}, "start", "offset"),
    ({"start": "2020-03-16T09:00:00-04:00"}, "start", "past"),
    ({"start": "2035-03-12T09:00:00-05:00"}, "start", "days ahead"),
    ({"start": "0001-01-01T09:00:00+05:00"}, "start", "between the years 1900 and 2200"),
    ({"provider_id": 999999}, "provider_id", "no active provider"),
    ({"patient_id": 999999}, "patient_id", "no patient"),
    ({"plan_id": 999999}, "plan_id", "no care plan"),
])
def test_a_broken_rule_is_422_naming_the_field(client, auth, people, change, field, words):
    response = client.post("/api/v1/appointments", json=body(people, **change), headers=auth("front_desk"))
    assert response.status_code == 422
    assert words in response.get_json()["error"]["fields"][field]


def test_a_therapy_hour_of_50_minutes_books_on_the_grid(client, auth, people):
    headers = auth("front_desk")
    booked = client.post("/api/v1/appointments", json=body(people, minutes=50), headers=headers)
    assert booked.status_code == 201, booked.get_json()
    assert booked.get_json()["end"] == "2027-03-15T09:50:00-04:00"
    # The next one starts on the grid after it; lengths are free, starts are not.
    after = client.post("/api/v1/appointments", headers=headers,
                        json=body(people, f"{MON_AFTER_DST}T10:00:00-04:00", minutes=50))
    assert after.status_code == 201, after.get_json()
    off_grid = client.post("/api/v1/appointments", headers=headers,
                           json=body(people, f"{MON_AFTER_DST}T09:50:00-04:00", minutes=10))
    assert off_grid.status_code == 422 and "grid" in off_grid.get_json()["error"]["fields"]["start"]
    moved = client.patch(f"/api/v1/appointments/{after.get_json()['id']}", headers=headers, json={"minutes": 55})
    assert moved.status_code == 200 and moved.get_json()["end"] == "2027-03-15T10:55:00-04:00"
    for minutes in (52.5, 0, -50):
        refused = client.patch(f"/api/v1/appointments/{after.get_json()['id']}", headers=headers,
                               json={"minutes": minutes})
        assert refused.status_code == 422 and "minutes" in refused.get_json()["error"]["fields"]
    slots = client.get(f"/api/v1/providers/{people['provider']}/free-slots", headers=headers, query_string={
        "start": f"{MON_AFTER_DST}T13:00:00-04:00", "end": f"{MON_AFTER_DST}T16:00:00-04:00", "minutes": 50})
    assert slots.status_code == 200
    assert [s["start"][11:16] for s in slots.get_json()] == ["13:00", "13:15", "13:30", "13:45", "14:00", "14:15",
                                                             "14:30", "14:45", "15:00"]
    for minutes in ("50.5", "0", "-50"):
        refused = client.get(f"/api/v1/providers/{people['provider']}/free-slots", headers=headers, query_string={
            "start": f"{MON_AFTER_DST}T13:00:00-04:00", "end": f"{MON_AFTER_DST}T16:00:00-04:00",
            "minutes": minutes})
        assert refused.status_code == 422 and "minutes" in refused.get_json()["error"]["fields"]


def test_time_off_refuses_but_patient_availability_does_not(client, auth, people):
    headers = auth("front_desk")
    client.post(f"/api/v1/providers/{people['provider']}/time-off", headers=headers,
                json={"start": f"{MON_AFTER_DST}T12:00:00-04:00", "end": f"{MON_AFTER_DST}T13:00:00-04:00"})
    response = client.post("/api/v1/appointments", json=body(people, f"{MON_AFTER_DST}T12:30:00-04:00"),
                           headers=headers)
    assert response.status_code == 422 and "away" in response.get_json()["error"]["fields"]["start"]
    # The patient's windows are 09:00-17:00; 08:00 is outside them and still bookable by the front desk.
    assert client.post("/api/v1/appointments", json=body(people, f"{MON_AFTER_DST}T08:00:00-04:00"),
                       headers=headers).status_code == 201


def test_moves_are_rechecked_and_bump_the_sequence(client, auth, people):
    headers = auth("front_desk")
    first = client.post("/api/v1/appointments", json=body(people), headers=headers).get_json()
    second = client.post("/api/v1/appointments", json=body(people, f"{MON_AFTER_DST}T11:00:00-04:00"),
                         headers=headers).get_json()
    url = f"/api/v1/appointments/{second['id']}"
    onto_first = client.patch(url, json={"start": f"{MON_AFTER_DST}T09:15:00-04:00"}, headers=headers)
    assert onto_first.status_code == 409
    assert onto_first.get_json()["error"]["conflicting_appointment_ids"] == [first["id"]]
    assert client.patch(url, json={"start": f"{MON_AFTER_DST}T16:00:00-04:00"}, headers=headers).status_code == 422
    # Moving over its own old time is no conflict with itself.
    moved = client.patch(url, json={"start": f"{MON_AFTER_DST}T11:30:00-04:00", "minutes": 60}, headers=headers)
    assert moved.status_code == 200
    assert (moved.get_json()["start"], moved.get_json()["end"]) == (
        "2027-03-15T11:30:00-04:00", "2027-03-15T12:30:00-04:00")
    assert moved.get_json()["sequence"] == 1


def test_cancel_keeps_the_reason_frees_the_time_and_cannot_be_undone(client, auth, people):
    headers = auth("front_desk")
    first = client.post("/api/v1/appointments", json=body(people), headers=headers).get_json()
    url = f"/api/v1/appointments/{first['id']}"
    cancelled = client.patch(url, json={"status": "cancelled", "reason": "car broke down"}, headers=headers).get_json()
    assert (cancelled["status"], cancelled["cancel_reason"], cancelled["late_cancellation"]) == (
        "cancelled", "car broke down", False)
    assert cancelled["cancelled_at"] and cancelled["sequence"] == 1
    assert client.post("/api/v1/appointments", json=body(people), headers=headers).status_code == 201
    again = client.patch(url, json={"status": "confirmed"}, headers=headers)
    assert again.status_code == 409 and "cancelled" in again.get_json()["error"]["message"]


def test_late_cancellation_is_recorded_inside_the_clinic_window(ctx):
    provider, patient = factories.provider(), factories.patient()
    start = datetime(2027, 3, 15, 13, 0, tzinfo=timezone.utc)
    early = service.book_appointment({"patient_id": patient.id, "provider_id": provider.id,
                                      "discipline": "physiotherapy", "start": start, "minutes": 45},
                                      caller=factories.CALLER)
    late = service.book_appointment({"patient_id": patient.id, "provider_id": provider.id,
                                     "discipline": "physiotherapy", "start": start + timedelta(hours=2),
                                     "minutes": 45}, caller=factories.CALLER)
    service.update_appointment(early.id, {"status": "cancelled"}, now=start - timedelta(hours=25),
                               caller=factories.CALLER)
    service.update_appointment(late.id, {"status": "cancelled", "reason": "sick"}, now=start - timedelta(hours=20),
                               caller=factories.CALLER)
    assert (early.late_cancellation, late.late_cancellation) == (False, True)
    assert late.cancelled_at == start - timedelta(hours=20)


def test_completed_and_no_show_only_once_started(ctx):
    provider, patient = factories.provider(), factories.patient()
    start = datetime(2027, 3, 15, 13, 0, tzinfo=timezone.utc)
    row = service.book_appointment({"patient_id": patient.id, "provider_id": provider.id,
                                    "discipline": "physiotherapy", "start": start, "minutes": 45},
                                    caller=factories.CALLER)
    with pytest.raises(Invalid) as refused:
        service.update_appointment(row.id, {"status": "completed"}, now=start - timedelta(minutes=1),
                                   caller=factories.CALLER)
    assert "started" in refused.value.fields["status"]
    service.update_appointment(row.id, {"status": "no_show"}, now=start + timedelta(minutes=10),
                               caller=factories.CALLER)
    with pytest.raises(Conflict):
        service.update_appointment(row.id, {"status": "completed"}, now=start + timedelta(minutes=50),
                                   caller=factories.CALLER)


def test_bulk_insert_is_all_or_nothing(ctx):
    provider, patient = factories.provider(), factories.patient()
    start = datetime(2027, 3, 15, 13, 0, tzinfo=timezone.utc)
    existing = service.book_appointment({"patient_id": patient.id, "provider_id": provider.id,
                                         "discipline": "physiotherapy", "start": start, "minutes": 45},
                                         caller=factories.CALLER)
    bookings = [service.Booking(patient_id=patient.id, provider_id=provider.id, discipline="physiotherapy",
                                start=start + timedelta(days=d), minutes=45, field=f"appointments[{i}].")
                for i, d in enumerate((1, 2, 0))]
    with pytest.raises(Conflict) as refused:
        service.insert_appointments(bookings, caller=factories.CALLER)
    assert refused.value.extra["conflicting_appointment_ids"] == [existing.id]
    assert set(refused.value.fields) == {"appointments[2].start"}
    assert db.session.query(Appointment).count() == 1
    booked = service.insert_appointments(bookings[:2], caller=factories.CALLER)
    assert [b.id for b in booked] == [existing.id + 1, existing.id + 2]


def test_the_database_refuses_an_overlap_the_service_did_not_see(ctx):
    """The last line of defence (constraint or trigger) is there, and is turned into a 409."""
    provider, patient, other = factories.provider(), factories.patient(), factories.patient()
    start = datetime(2027, 3, 15, 13, 0, tzinfo=timezone.utc)
    factories.appointment(patient, provider, start)
    db.session.add(Appointment(patient_id=other.id, provider_id=provider.id, discipline_code="physiotherapy",
                               starts_at=start + timedelta(minutes=30), ends_at=start + timedelta(minutes=75)))
    booking = service.Booking(patient_id=other.id, provider_id=provider.id, discipline="physiotherapy",
                              start=start + timedelta(minutes=30), minutes=45)
    with pytest.raises(Conflict):
        service._commit_guarded([booking], [None])
    # A cancelled appointment is no obstacle.
    factories.appointment(other, provider, start, status="cancelled")


def test_who_sees_and_changes_what(client, auth, app, people):
    with app.app_context():
        provider_user = factories.user("provider", provider_id=people["provider"])
        patient_user = factories.user("patient", patient_id=people["patient"])
        provider_headers, patient_headers = factories.bearer(provider_user), factories.bearer(patient_user)
        stranger = factories.bearer(factories.user("patient"))
        other_provider = factories.bearer(factories.user("provider"))
    headers = auth("front_desk")
    mine = client.post("/api/v1/appointments", json=body(people), headers=headers).get_json()
    theirs = client.post("/api/v1/appointments", headers=headers,
                         json=body(people, f"{MON_AFTER_DST}T11:00:00-04:00",
                                   patient_id=people["other_patient"])).get_json()
    listed = client.get("/api/v1/appointments", headers=patient_headers).get_json()
    assert [a["id"] for a in listed] == [mine["id"]]
    assert client.get(f"/api/v1/appointments/{theirs['id']}", headers=patient_headers).status_code == 404
    assert client.get(f"/api/v1/appointments/{mine['id']}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/appointments/{mine['id']}", headers=other_provider).status_code == 404
    assert len(client.get("/api/v1/appointments", headers=provider_headers).get_json()) == 2
    assert client.post("/api/v1/appointments", json=body(people), headers=patient_headers).status_code == 403

    url = f"/api/v1/appointments/{mine['id']}"
    assert client.patch(url, json={"start": f"{MON_AFTER_DST}T10:00:00-04:00"},
                        headers=patient_headers).status_code == 403
    assert client.patch(url, json={"status": "confirmed"}, headers=patient_headers).get_json()["status"] == "confirmed"
    assert client.patch(url, json={"status": "cancelled"}, headers=provider_headers).status_code == 403
    early = client.patch(url, json={"status": "completed"}, headers=provider_headers)
    assert early.status_code == 422
    assert client.patch(url, json={"status": "cancelled", "reason": "travel"},
                        headers=patient_headers).get_json()["cancel_reason"] == "travel"


def test_list_filters_and_pages(client, auth, people):
    headers = auth("front_desk")
    for hour in (9, 10, 11):
        client.post("/api/v1/appointments", json=body(people, f"{MON_AFTER_DST}T{hour:02d}:00:00-04:00"),
                    headers=headers)
    page = client.get("/api/v1/appointments?page_size=2", headers=headers)
    assert len(page.get_json()) == 2 and '"total": 3' in page.headers["X-Pagination"]
    window = client.get("/api/v1/appointments", headers=headers, query_string={
        "from": f"{MON_AFTER_DST}T09:50:00-04:00", "to": f"{MON_AFTER_DST}T11:00:00-04:00",
        "provider_id": people["provider"], "status": "booked"}).get_json()
    assert [a["start"][11:16] for a in window] == ["10:00"]


def test_free_slots_leave_out_bookings_time_off_and_the_grid_edges(client, auth, people):
    headers = auth("front_desk")
    client.post("/api/v1/appointments", json=body(people, f"{MON_AFTER_DST}T09:00:00-04:00", minutes=60),
                headers=headers)
    client.post(f"/api/v1/providers/{people['provider']}/time-off", headers=headers,
                json={"start": f"{MON_AFTER_DST}T12:00:00-04:00", "end": f"{MON_AFTER_DST}T16:00:00-04:00"})
    response = client.get(f"/api/v1/providers/{people['provider']}/free-slots", headers=headers, query_string={
        "start": f"{MON_AFTER_DST}T00:00:00-04:00", "end": "2027-03-16T00:00:00-04:00", "minutes": 60})
    starts = [s["start"][11:16] for s in response.get_json()]
    assert starts == ["08:00", "10:00", "10:15", "10:30", "10:45", "11:00"]
    assert response.get_json()[0] == {"start": "2027-03-15T08:00:00-04:00", "end": "2027-03-15T09:00:00-04:00"}
    too_long = client.get(f"/api/v1/providers/{people['provider']}/free-slots", headers=headers, query_string={
        "start": "2027-03-01T00:00:00-05:00", "end": "2027-04-15T00:00:00-04:00", "minutes": 60})
    assert too_long.status_code == 422 and "31 days" in too_long.get_json()["error"]["fields"]["end"]
    past = client.get(f"/api/v1/providers/{people['provider']}/free-slots", headers=headers, query_string={
        "start": "2020-03-16T00:00:00-04:00", "end": "2020-03-17T00:00:00-04:00", "minutes": 60})
    assert past.status_code == 200 and past.get_json() == []


def test_idempotency_key_replays_the_first_answer(client, auth, people):
    headers = {**auth("front_desk"), "Idempotency-Key": "booking-1"}
    first = client.post("/api/v1/appointments", json=body(people), headers=headers)
    retry = client.post("/api/v1/appointments", json=body(people), headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.get_json() == first.get_json() and retry.headers["Idempotent-Replayed"] == "true"
    different = client.post("/api/v1/appointments", json=body(people, minutes=60), headers=headers)
    assert different.status_code == 422 and "different request" in different.get_json()["error"]["message"]
    refused = client.post("/api/v1/appointments", json=body(people), headers={**headers, "Idempotency-Key": "b-2"})
    assert refused.status_code == 409
    assert client.post("/api/v1/appointments", json=body(people),
                       headers={**headers, "Idempotency-Key": "b-2"}).get_json() == refused.get_json()
    with client.application.app_context():
        assert db.session.query(Appointment).count() == 1


def test_free_slots_never_list_an_instant_twice_across_the_skipped_hour(client, app, auth):
    """02:00-03:00 does not exist on 14 March 2027 in Toronto: 02:30 would be the instant 03:30 names."""
    with app.app_context():
        night_owl = factories.provider(hours="sun 01:00-05:00").id
    response = client.get(f"/api/v1/providers/{night_owl}/free-slots", headers=auth("front_desk"), query_string={
        "start": "2027-03-14T00:00:00-05:00", "end": "2027-03-15T00:00:00-04:00", "minutes": 30})
    starts = [s["start"] for s in response.get_json()]
    instants = {datetime.fromisoformat(start) for start in starts}
    assert len(instants) == len(starts)
    assert [s[11:] for s in starts[:5]] == ["01:00:00-05:00", "01:15:00-05:00", "01:30:00-05:00", "01:45:00-05:00",
                                            "03:00:00-04:00"]
    assert starts[-1] == "2027-03-14T04:30:00-04:00"


def test_a_plan_session_goes_only_to_the_clinician_its_care_team_requires(client, auth, app, people):
    with app.app_context():
        chosen = factories.provider(hours="mon-fri 08:00-16:00")
        from careplan.patients.models import Patient

        plan = factories.care_plan(db.session.get(Patient, people["patient"]), {"physiotherapy": chosen},
                                   start=datetime(2027, 3, 8).date())
        plan.care_team[0].required = True
        db.session.commit()
        plan_id, chosen_id = plan.id, chosen.id
    desk = auth("front_desk")
    session = {"plan_id": plan_id, "kind": "treatment", "phase": "acute", "week": 1}
    refused = client.post("/api/v1/appointments", json=body(people, **session), headers=desk)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {
        "provider_id": f"the care plan requires provider {chosen_id} for physiotherapy"}
    booked = client.post("/api/v1/appointments", json=body(people, provider_id=chosen_id, **session), headers=desk)
    assert booked.status_code == 201, booked.get_json()


def test_cancelling_a_session_its_clinician_cannot_keep_is_never_late(ctx):
    """Found in use: Linh cancelled, 20 hours ahead, the session her clinician off sick could not keep, and was
    recorded as a late cancellation."""
    from careplan.providers.service import add_time_off

    provider, patient = factories.provider(), factories.patient()
    start = datetime(2027, 3, 15, 13, 0, tzinfo=timezone.utc)
    session = service.book_appointment({"patient_id": patient.id, "provider_id": provider.id,
                                        "discipline": "physiotherapy", "start": start, "minutes": 45},
                                       caller=factories.CALLER)
    add_time_off(provider.id, {"starts_at": start - timedelta(hours=1), "ends_at": start + timedelta(hours=8),
                               "reason": "sick"}, now=start - timedelta(hours=30))
    assert session.needs_new_time
    service.update_appointment(session.id, {"status": "cancelled"}, now=start - timedelta(hours=20),
                               caller=factories.CALLER)
    assert (session.status, session.late_cancellation) == ("cancelled", False)
