"""A change of hours or time off never leaves appointments silently outside them: the change answers with the
affected appointments, flags them for the front desk, holds their reminders, and a move or hours that cover
them again clear the flag."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from careplan.caller import worker_name
from careplan.extensions import db
from careplan.reminders import dispatch
from careplan.reminders.models import OutboundEmail
from careplan.scheduling import attention
from careplan.scheduling.models import Appointment
from tests import factories
from tests.conftest import ON_POSTGRES
from tests.mail.conftest import smtp  # noqa: F401  (the loopback SMTP server fixture)

MONDAY = "2027-03-15"
NINE = f"{MONDAY}T09:00:00-04:00"
AFTER_ALL = datetime(2028, 1, 1, tzinfo=timezone.utc)
AFTERNOONS = [{"day": day, "start": "12:00", "end": "16:00"} for day in ("mon", "tue", "wed", "thu", "fri")]
FULL_DAYS = [{"day": day, "start": "08:00", "end": "16:00"} for day in ("mon", "tue", "wed", "thu", "fri")]


@pytest.fixture
def booked(app, client, auth):
    """A physiotherapist working 08:00-16:00 and a patient booked with her at 09:00 on a Monday (with reminders)."""
    with app.app_context():
        provider_id = factories.provider(name="Ana Moreau", hours="mon-fri 08:00-16:00").id
        patient_id = factories.patient(name="Martha Kowalski").id
    response = client.post("/api/v1/appointments", headers=auth("front_desk"), json={
        "patient_id": patient_id, "provider_id": provider_id, "discipline": "physiotherapy", "start": NINE,
        "minutes": 45})
    assert response.status_code == 201, response.get_json()
    return {"provider": provider_id, "patient": patient_id, "appointment": response.get_json()["id"]}


def flag_of(appointment_id: int) -> tuple[str | None, datetime | None]:
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment_id)
    return appointment.flag_reason, appointment.flagged_at


def test_cutting_hours_answers_and_flags_the_appointments_now_outside(client, auth, booked, app):
    admin = auth("admin")
    answer = client.patch(f"/api/v1/providers/{booked['provider']}", headers=admin, json={"availability": AFTERNOONS})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["availability"][0] == {"day": "mon", "start": "12:00", "end": "16:00"}
    [affected] = body["affected_appointments"]
    assert affected["id"] == booked["appointment"] and affected["start"] == NINE
    assert affected["flag_reason"] == "outside Ana Moreau's working hours"
    with app.app_context():
        reason, since = flag_of(booked["appointment"])
        assert reason == "outside Ana Moreau's working hours" and since is not None

    listed = client.get("/api/v1/appointments?flagged=true", headers=auth("front_desk")).get_json()
    assert [(a["id"], a["flag_reason"]) for a in listed] == [(booked["appointment"], affected["flag_reason"])]
    assert client.get("/api/v1/appointments?flagged=false", headers=admin).get_json() == []

    # A change that leaves the morning outside answers it again; hours that cover it clear the flag.
    same = client.patch(f"/api/v1/providers/{booked['provider']}", headers=admin, json={"phone": "416-555-0100"})
    assert [a["id"] for a in same.get_json()["affected_appointments"]] == [booked["appointment"]]
    back = client.patch(f"/api/v1/providers/{booked['provider']}", headers=admin, json={"availability": FULL_DAYS})
    assert back.get_json()["affected_appointments"] == []
    with app.app_context():
        assert flag_of(booked["appointment"]) == (None, None)
    assert client.get("/api/v1/appointments?flagged=true", headers=admin).get_json() == []


def test_time_off_over_a_booking_answers_and_flags_it_and_removing_it_clears_the_flag(client, auth, booked, app):
    desk = auth("front_desk")
    url = f"/api/v1/providers/{booked['provider']}/time-off"
    answer = client.post(url, headers=desk, json={"start": f"{MONDAY}T00:00:00-04:00",
                                                  "end": "2027-03-16T00:00:00-04:00", "reason": "Course"})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    [affected] = body["affected_appointments"]
    assert affected["id"] == booked["appointment"]
    # The absence in the pages' words: one whole day, not "2027-03-15 00:00 to 2027-03-16 00:00".
    assert affected["flag_reason"] == "inside Ana Moreau's time off (Mon 15 Mar 2027, all day)"
    with app.app_context():
        assert flag_of(booked["appointment"])[0] == affected["flag_reason"]

    assert client.delete(f"{url}/{body['id']}", headers=desk).status_code == 204
    with app.app_context():
        assert flag_of(booked["appointment"]) == (None, None)


def test_an_absence_elsewhere_leaves_the_booking_alone(client, auth, booked, app):
    answer = client.post(f"/api/v1/providers/{booked['provider']}/time-off", headers=auth("front_desk"),
                         json={"start": "2027-03-16T00:00:00-04:00", "end": "2027-03-17T00:00:00-04:00"})
    assert answer.get_json()["affected_appointments"] == []
    with app.app_context():
        assert flag_of(booked["appointment"]) == (None, None)


def test_the_dispatcher_holds_the_reminders_of_a_flagged_appointment(client, auth, booked, app, smtp):
    with app.app_context():
        # The booking confirmation goes out; the two reminders are not due yet by the real clock.
        assert len(dispatch.dispatch_due().sent) == 1
    client.patch(f"/api/v1/providers/{booked['provider']}", headers=auth("admin"), json={"availability": AFTERNOONS})
    with app.app_context():
        held = dispatch.dispatch_due(due_before=AFTER_ALL)
        assert held.sent == [] and held.claimed == 0
        reminders = list(db.session.scalars(select(OutboundEmail).where(OutboundEmail.kind == "reminder")))
        assert [(r.status, r.attempts) for r in reminders] == [("pending", 0), ("pending", 0)]
    assert len(smtp.inbox.messages) == 1

    # Hours back over it: the flag clears and the reminders go out again.
    client.patch(f"/api/v1/providers/{booked['provider']}", headers=auth("admin"), json={"availability": FULL_DAYS})
    with app.app_context():
        sent = dispatch.dispatch_due(due_before=AFTER_ALL)
        assert len(sent.sent) == 2
        kinds = Counter(db.session.scalars(select(OutboundEmail.kind).where(OutboundEmail.status == "sent")))
    assert kinds == Counter({"booking-confirmation": 1, "reminder": 2})
    assert [m["X-Careplan-Kind"] for m in smtp.inbox.messages].count("reminder") == 2


def test_a_flag_set_after_the_claim_holds_the_reminder_unsent(booked, app, smtp):
    with app.app_context():
        owner = worker_name()
        ids = dispatch.claim(owner, now=datetime.now(timezone.utc), due_before=AFTER_ALL, limit=10)
        appointment = db.session.get(Appointment, booked["appointment"])
        appointment.flag_reason, appointment.flagged_at = "outside Ana Moreau's working hours", AFTER_ALL
        db.session.commit()
        result = dispatch.BatchResult()
        prepared = dispatch._prepare(ids, owner, datetime.now(timezone.utc), result)
        assert [name.split("-", 1)[1] for _, name, _ in prepared] == ["booking-confirmation"]
        assert len(result.held) == 2
        db.session.expire_all()
        held = list(db.session.scalars(select(OutboundEmail).where(OutboundEmail.id.in_(result.held))))
        assert {(r.status, r.lease_owner, r.attempts) for r in held} == {("pending", None, 0)}


def test_moving_a_flagged_appointment_clears_its_flag_and_retimes_its_reminders(client, auth, booked, app):
    client.patch(f"/api/v1/providers/{booked['provider']}", headers=auth("admin"), json={"availability": AFTERNOONS})
    moved = client.patch(f"/api/v1/appointments/{booked['appointment']}", headers=auth("front_desk"),
                         json={"start": f"{MONDAY}T13:00:00-04:00"})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["flag_reason"] is None and moved.get_json()["flagged_at"] is None
    with app.app_context():
        assert flag_of(booked["appointment"]) == (None, None)
        pending = list(db.session.scalars(select(OutboundEmail).where(
            OutboundEmail.kind == "reminder", OutboundEmail.status == "pending")))
        assert len(pending) == 2
        assert dispatch.dispatch_due(due_before=AFTER_ALL).sent


def test_cancelling_a_flagged_appointment_clears_its_flag(client, auth, booked, app):
    client.patch(f"/api/v1/providers/{booked['provider']}", headers=auth("admin"), json={"availability": AFTERNOONS})
    cancelled = client.patch(f"/api/v1/appointments/{booked['appointment']}", headers=auth("front_desk"),
                             json={"status": "cancelled", "reason": "Clinician's hours changed"})
    assert cancelled.status_code == 200 and cancelled.get_json()["flag_reason"] is None
    with app.app_context():
        assert db.session.scalars(attention.flagged_appointments()).all() == []


def test_deactivating_the_provider_flags_their_future_appointments(client, auth, booked, app):
    answer = client.patch(f"/api/v1/providers/{booked['provider']}", headers=auth("admin"), json={"active": False})
    [affected] = answer.get_json()["affected_appointments"]
    assert affected["flag_reason"] == "Ana Moreau no longer sees patients"


def test_past_appointments_are_not_flagged(app, ctx):
    provider = factories.provider(hours="mon-fri 08:00-16:00")
    past = factories.appointment(provider=provider, starts_at=datetime(2025, 3, 17, 13, 0, tzinfo=timezone.utc))
    from careplan.providers.service import update_provider

    change = update_provider(provider.id, {"availability": []})
    assert change.affected == []
    assert flag_of(past.id) == (None, None)


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks are PostgreSQL's; SQLite serialises every writer")
def test_a_booking_holds_the_provider_row_until_it_commits(app, booked):
    """A change of hours cannot slip between a booking's check against the hours and its commit."""
    import psycopg
    from sqlalchemy import make_url

    from careplan.scheduling.service import Booking, add_appointments

    with app.app_context():
        patient = factories.patient().id
        add_appointments([Booking(patient_id=patient, provider_id=booked["provider"], discipline="physiotherapy",
                                  start=datetime(2027, 3, 15, 17, 0, tzinfo=timezone.utc), minutes=45)],
                         caller=factories.CALLER)
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as other:
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT id FROM providers WHERE id = %s FOR UPDATE NOWAIT", (booked["provider"],))
            db.session.rollback()
            other.execute("SELECT id FROM providers WHERE id = %s FOR UPDATE NOWAIT", (booked["provider"],))


def test_a_stored_reason_names_the_absences_year_even_this_year(ctx):
    """The reason is stored and read later, after the year has turned too: "Tue 8 Dec" would not say which."""
    from datetime import time as clock, timedelta

    from careplan.clinic import service as clinic

    today = clinic.to_local(datetime.now(timezone.utc)).date()
    start = clinic.local_datetime(today, clock.min)
    said = attention._span(start, start + timedelta(days=1))
    assert said.endswith(f"{today.day} {today.strftime('%b')} {today.year}, all day"), said
