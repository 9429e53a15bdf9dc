"""The reminder e-mail itself: its calendar part, and confirm/cancel links that work once and expire."""
from __future__ import annotations

import itertools
import re
import time
from datetime import timedelta
from types import SimpleNamespace

import itsdangerous.timed
from icalendar import Calendar
from sqlalchemy import select

from careplan.db import utcnow
from careplan.extensions import db
from careplan.reminders import dispatch, service
from careplan.reminders.models import OutboundEmail
from careplan.scheduling.models import Appointment
from tests import factories

_days = itertools.count(3)


def reminder_email(app, smtp, *, starts_in: timedelta | None = None, **patient_fields):
    """Book an appointment some days ahead, send its 48 h reminder, and return (appointment id, message)."""
    with app.app_context():
        provider = factories.provider(name="Dana Whitfield")
        patient = factories.patient(**patient_fields)
        start = (utcnow() + (starts_in or timedelta(days=next(_days)))).replace(second=0, microsecond=0)
        visit = factories.appointment(patient=patient, provider=provider, starts_at=start)
        service.schedule_reminders(visit, now=utcnow() - timedelta(days=10))
        db.session.commit()
        sent = dispatch.dispatch_due(due_before=start - timedelta(hours=24))
        assert sent.sent, sent
        return visit.id, smtp.inbox.messages[-1]


def links_in(message) -> dict[str, str]:
    text = message.get_body(("plain",)).get_content()
    return {"confirm": re.search(r"I will be there: \S+(/api/v1/appointment-links/\S+)", text).group(1),
            "cancel": re.search(r"Cancel this appointment: \S+(/api/v1/appointment-links/\S+)", text).group(1)}


def appointment(app, appointment_id) -> Appointment:
    with app.app_context():
        row = db.session.get(Appointment, appointment_id)
        db.session.expunge(row)
        return row


def test_the_reminder_carries_the_minimum_and_an_ics_that_parses(app, smtp):
    appointment_id, message = reminder_email(app, smtp)
    assert message["X-Careplan-Kind"] == "reminder"
    assert message["Message-ID"].startswith("<careplan-email-")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Dana Whitfield" in body and "physiotherapist" in body
    with app.app_context():
        from careplan.clinic.service import settings

        clinic = settings()
        assert clinic.name in text and clinic.name in html
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1 and parts[0].get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(parts[0].get_content())
    assert calendar["METHOD"] == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    # The same UID as the calendar feeds give it, so a calendar holds one event for the appointment.
    assert str(event["UID"]) == f"appointment-{appointment_id}@careplan"
    assert int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].params["TZID"] == "America/Toronto"
    assert event.decoded("DTSTART") == appointment(app, appointment_id).starts_at
    assert calendar.walk("VTIMEZONE")


def test_a_name_with_line_breaks_cannot_inject_headers(app, smtp):
    _, message = reminder_email(app, smtp, name="Eve\r\nBcc: attacker@evil.example\r\n\r\nInjected body")
    assert message["Bcc"] is None
    assert smtp.inbox.envelopes[-1] == [message["To"].addresses[0].addr_spec]
    assert message["To"].addresses[0].display_name == "Eve Bcc: attacker@evil.example Injected body"


def _page_text(response) -> str:
    """The text of a page in the clinic's layout (its header and main landmark), never a JSON error."""
    assert response.mimetype == "text/html", response.get_data(as_text=True)[:200]
    html = response.get_data(as_text=True)
    assert '<header class="site-header">' in html and '<main id="main"' in html
    return html


def test_the_link_pages_wear_the_clinic_layout_and_so_do_their_errors(app, smtp, client):
    _, message = reminder_email(app, smtp)
    confirm = links_in(message)["confirm"]
    _page_text(client.get(confirm))
    _page_text(client.post(confirm))
    used = client.post(confirm)
    assert used.status_code == 409 and "used already" in _page_text(used)
    unknown = client.get("/api/v1/appointment-links/not-a-real-token")
    assert unknown.status_code == 404 and "This link is not valid." in _page_text(unknown)


def test_a_signed_in_patient_can_use_the_link(app, smtp, client):
    appointment_id, message = reminder_email(app, smtp)
    with app.app_context():
        patient_id = db.session.get(Appointment, appointment_id).patient_id
        email = factories.user("patient", patient_id=patient_id).email
    login_page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"email": email, "password": "correct horse battery",
                                       "csrf_token": csrf}).status_code == 302
    confirm = links_in(message)["confirm"]
    form = client.get(confirm).get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)"', form))
    done = client.post(confirm, data=fields)
    assert done.status_code == 200 and "confirmed" in _page_text(done)
    assert appointment(app, appointment_id).status == "confirmed"
    # Without the form's token, a page elsewhere cannot make the patient's browser press the button.
    cancel = links_in(message)["cancel"]
    forged = client.post(cancel)
    assert forged.status_code == 400 and _page_text(forged)
    assert appointment(app, appointment_id).status == "confirmed"


def test_the_confirm_link_shows_a_page_on_get_and_confirms_once_on_post(app, smtp, client):
    appointment_id, message = reminder_email(app, smtp)
    confirm = links_in(message)["confirm"]
    page = client.get(confirm)
    assert page.status_code == 200 and page.mimetype == "text/html" and b"<form method=\"post\">" in page.data
    assert appointment(app, appointment_id).status == "booked"
    done = client.post(confirm)
    assert done.status_code == 200 and b"confirmed" in done.data
    assert appointment(app, appointment_id).status == "confirmed"
    again = client.post(confirm)
    assert again.status_code == 409 and "used already" in _page_text(again)
    assert b"used already" in client.get(confirm).data


def test_the_cancel_link_cancels_once_queues_the_notice_and_withdraws_the_reminders(app, smtp, client):
    appointment_id, message = reminder_email(app, smtp)
    cancel = links_in(message)["cancel"]
    assert client.post(cancel).status_code == 200
    visit = appointment(app, appointment_id)
    assert (visit.status, visit.sequence) == ("cancelled", 1)
    assert client.post(cancel).status_code == 409
    assert client.post(links_in(message)["confirm"]).status_code == 409
    with app.app_context():
        rows = db.session.scalars(select(OutboundEmail).where(OutboundEmail.appointment_id == appointment_id)).all()
        assert sorted((r.kind, r.status) for r in rows) == [
            ("cancellation", "pending"), ("reminder", "cancelled"), ("reminder", "sent")]
        dispatch.dispatch_due()
    notice = smtp.inbox.messages[-1]
    assert notice["X-Careplan-Kind"] == "cancellation"
    calendar = Calendar.from_ical([p for p in notice.walk() if p.get_content_type() == "text/calendar"][0].get_content())
    assert calendar["METHOD"] == "CANCEL" and int(calendar.walk("VEVENT")[0]["SEQUENCE"]) == 1


def test_inside_the_late_cancellation_window_the_link_asks_to_call(app, smtp, client):
    appointment_id, message = reminder_email(app, smtp, starts_in=timedelta(hours=20))
    cancel = links_in(message)["cancel"]
    assert b"call the clinic" in client.get(cancel).data
    refused = client.post(cancel)
    assert refused.status_code == 409 and "call the clinic" in _page_text(refused)
    assert appointment(app, appointment_id).status == "booked"


def test_a_session_its_clinician_cannot_keep_is_cancelled_by_its_link_inside_the_window(app, smtp, client):
    """Inside the window a link refuses to cancel (only a signed-in patient or the desk records a late
    cancellation), but a session the clinic itself cannot keep is never a late cancellation."""
    from careplan.providers.service import add_time_off

    appointment_id, message = reminder_email(app, smtp, starts_in=timedelta(hours=20))
    with app.app_context():
        row = db.session.get(Appointment, appointment_id)
        add_time_off(row.provider_id, {"starts_at": row.starts_at - timedelta(hours=1),
                                       "ends_at": row.ends_at + timedelta(hours=1), "reason": "sick"})
    cancel = links_in(message)["cancel"]
    assert b"call the clinic" not in client.get(cancel).data
    assert client.post(cancel).status_code == 200
    cancelled = appointment(app, appointment_id)
    assert cancelled.status == "cancelled" and not cancelled.late_cancellation


def test_links_expire(app, smtp, client, monkeypatch):
    appointment_id, message = reminder_email(app, smtp)
    later = time.time() + app.config["EMAIL_LINK_MAX_AGE_HOURS"] * 3600 + 5
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: later))
    confirm = links_in(message)["confirm"]
    assert b"expired" in client.get(confirm).data
    assert client.post(confirm).status_code == 409
    assert appointment(app, appointment_id).status == "booked"


def test_a_link_not_signed_by_the_clinic_is_not_found(app, client):
    assert client.get("/api/v1/appointment-links/not-a-real-token").status_code == 404
    forged = itsdangerous.URLSafeTimedSerializer("another key", salt="careplan.appointment-link").dumps(
        {"a": 1, "do": "cancel", "s": 0})
    refused = client.post(f"/api/v1/appointment-links/{forged}")
    assert refused.status_code == 404 and "This link is not valid." in _page_text(refused)


def test_a_moved_appointment_makes_old_links_stale(app, smtp, client):
    appointment_id, message = reminder_email(app, smtp)
    with app.app_context():
        visit = db.session.get(Appointment, appointment_id)
        visit.starts_at += timedelta(days=1)
        visit.ends_at += timedelta(days=1)
        visit.sequence += 1
        db.session.commit()
    refused = client.post(links_in(message)["confirm"])
    assert refused.status_code == 409 and "changed" in _page_text(refused)


def test_notice_kinds_are_named_in_the_header(app, smtp):
    with app.app_context():
        patient = factories.patient()
        visit = factories.appointment(patient=patient, starts_at=utcnow() + timedelta(days=4))
        service.queue_booking_confirmation(patient, [visit])
        service.queue_reschedule_notice(visit, previous_starts_at=visit.starts_at - timedelta(days=1))
        db.session.commit()
        dispatch.dispatch_due()
    kinds = sorted(m["X-Careplan-Kind"] for m in smtp.inbox.messages)
    assert kinds == ["booking-confirmation", "reschedule"]
    reschedule = [m for m in smtp.inbox.messages if m["X-Careplan-Kind"] == "reschedule"][0]
    assert "until now on" in reschedule.get_body(("plain",)).get_content()


def test_emails_say_nothing_of_the_condition_or_the_plan(app, smtp):
    from datetime import date

    from careplan.plans.models import CarePlan

    with app.app_context():
        patient = factories.patient()
        plan = CarePlan(patient_id=patient.id, region="lumbar", severity="severe", start_date=date(2027, 1, 4))
        db.session.add(plan)
        db.session.commit()
        visit = factories.appointment(patient=patient, starts_at=utcnow() + timedelta(days=4), plan_id=plan.id,
                                      phase_name="acute", plan_week=1, kind="assessment")
        service.schedule_reminders(visit)
        service.queue_booking_confirmation(patient, [visit])
        db.session.commit()
        dispatch.dispatch_due()
        service.cancel_reminders(visit, notify=True)
        db.session.commit()
        born = str(patient.date_of_birth)
        dispatch.dispatch_due()
    assert len(smtp.inbox.messages) == 2
    for message in smtp.inbox.messages:
        raw = message.as_string().lower()
        for secret in ("radiculopathy", "lumbar", "severe", "acute", "assessment", born):
            assert secret not in raw


def test_a_video_sessions_link_page_says_how_to_join(app, smtp, client):
    """The page behind the e-mail's confirm link says what the e-mail says: by video, with the link."""
    link = "https://video.example.org/room/77"
    with app.app_context():
        therapist = factories.provider(name="Elena Petrova", disciplines=("psychotherapy",))
        patient = factories.patient(accepts_virtual=True)
        start = (utcnow() + timedelta(days=next(_days))).replace(second=0, microsecond=0)
        visit = factories.appointment(patient, therapist, start, discipline="psychotherapy", virtual=True,
                                      video_link=link)
        service.schedule_reminders(visit, now=utcnow() - timedelta(days=10))
        db.session.commit()
        assert dispatch.dispatch_due(due_before=start - timedelta(hours=24)).sent
    page = client.get(links_in(smtp.inbox.messages[-1])["confirm"]).text
    assert f'By video: <a href="{link}"' in page


def test_a_move_to_another_clinician_says_whom_it_was_with(app, ctx, smtp):
    """Found in use: Pierre's session moved to the same hour with Ana Moreau, and the e-mail read as if nothing
    had changed ("until now on Tuesday ... at 11:15 ... It is now: ... 11:15 with Ana Moreau")."""
    from careplan.scheduling import service

    patient = factories.patient()
    priya, ana = factories.provider(name="Priya Raman"), factories.provider(name="Ana Moreau")
    from datetime import datetime, time as clock_time

    from careplan.clinic import service as clinic

    # A weekday five days or more ahead, at 10:00 in the clinic, inside the factories' Monday-to-Friday hours.
    day = clinic.today() + timedelta(days=5)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = clinic.local_datetime(day, clock_time(10, 0))
    appointment = service.book_appointment({"patient_id": patient.id, "provider_id": priya.id,
                                            "discipline": "physiotherapy", "start": start, "minutes": 45},
                                           caller=factories.CALLER)
    factories.confirmations_sent()
    service.update_appointment(appointment.id, {"provider_id": ana.id}, caller=factories.CALLER)
    # Moved again before the notice went out: it says what the patient knew, Priya at the first time.
    service.update_appointment(appointment.id, {"start": start + timedelta(hours=1)}, caller=factories.CALLER)
    [notice] = db.session.scalars(select(OutboundEmail).where(OutboundEmail.appointment_id == appointment.id,
                                                             OutboundEmail.kind == "reschedule",
                                                             OutboundEmail.status == "pending")).all()
    assert notice.payload["previous_provider_id"] == priya.id
    assert datetime.fromisoformat(notice.payload["previous_starts_at"]) == start
    dispatch.dispatch_due()
    text = smtp.inbox.messages[-1].get_body(("plain",)).get_content()
    assert "with Priya Raman, has moved" in text and "with Ana Moreau" in text
