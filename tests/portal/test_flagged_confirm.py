"""A session a clinician's time off has flagged is being re-arranged: no one confirms it, by any way a
confirmation arrives (the API, the portal's buttons, "Confirm all", an e-mail's link), and the patient reads why.
Found in use: Elena off on Thursday, Aisha could still confirm her Thursday session."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from urllib.parse import urlparse

from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.providers import service as providers
from careplan.reminders.links import link_url
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.conftest import book


@pytest.fixture
def thursday_off(app):
    """Elena's patient has sessions next Tuesday and Thursday at 10:00; Elena is then off all Thursday."""
    with app.app_context():
        elena = factories.provider(name="Elena Petrova")
        patient = factories.patient(name="Aisha Mohammed")
        today = datetime.now(clinic.zone()).date()
        tuesday = today + timedelta(days=7 - today.weekday() + 1)
        thursday = tuesday + timedelta(days=2)
        kept = book(patient.id, elena.id, "physiotherapy", clinic.local_datetime(tuesday, time(10)))
        flagged = book(patient.id, elena.id, "physiotherapy", clinic.local_datetime(thursday, time(10)))
        change = providers.add_time_off(elena.id, {"starts_at": clinic.local_datetime(thursday, time(0)),
                                                   "ends_at": clinic.local_datetime(thursday, time(23, 59)),
                                                   "reason": "Sick"})
        db.session.commit()
        assert [a.id for a in change.affected] == [flagged.id]
        return {"patient": patient.id, "kept": kept.id, "flagged": flagged.id,
                "flagged_link": urlparse(link_url(flagged, "confirm")).path}


def _status(app, appointment_id: int) -> str:
    with app.app_context():
        return db.session.get(Appointment, appointment_id).status


def test_the_api_refuses_to_confirm_a_flagged_session_and_says_why(client, app, auth, thursday_off):
    me = auth("patient", patient_id=thursday_off["patient"])
    answer = client.patch(f"/api/v1/appointments/{thursday_off['flagged']}", headers=me,
                          json={"status": "confirmed"})
    assert answer.status_code == 409
    error = answer.get_json()["error"]
    assert "finding a new time" in error["message"] and error["fields"] == {"status": "the session needs a new time"}
    # The clinician's reason (whose time off) stays with the staff.
    assert "Sick" not in answer.text and "Elena" not in answer.text
    assert _status(app, thursday_off["flagged"]) == "booked"
    # The desk cannot confirm it for the patient either.
    desk = client.patch(f"/api/v1/appointments/{thursday_off['flagged']}", headers=auth("front_desk"),
                        json={"status": "confirmed"})
    assert desk.status_code == 409


def test_confirm_all_confirms_what_keeps_its_time_and_leaves_the_flagged_one(client, app, auth, thursday_off):
    me = auth("patient", patient_id=thursday_off["patient"])
    answer = client.post("/api/v1/me/appointments/confirm", headers=me, json={"all_upcoming": True})
    assert answer.status_code == 200, answer.get_json()
    assert [a["id"] for a in answer.get_json()["confirmed"]] == [thursday_off["kept"]]
    assert _status(app, thursday_off["flagged"]) == "booked"


def test_an_e_mail_link_does_not_confirm_a_flagged_session(client, app, thursday_off):
    page = client.get(thursday_off["flagged_link"])
    assert "finding a new time" in page.text
    used = client.post(thursday_off["flagged_link"])
    assert used.status_code == 409 and "finding a new time" in used.text
    assert _status(app, thursday_off["flagged"]) == "booked"


def test_the_patients_page_says_the_session_is_being_re_arranged_with_no_confirm_button(client, app, auth,
                                                                                       thursday_off):
    me = auth("patient", patient_id=thursday_off["patient"])
    page = client.get("/my/appointments", headers=me).text
    assert page.count("Being re-arranged") == 1
    assert "the clinic will offer you a new one" in page
    assert f'action="/my/appointments/{thursday_off["flagged"]}/confirm"' not in page
    assert f'action="/my/appointments/{thursday_off["kept"]}/confirm"' in page
    # A forged post of the button gets the refusal, not a confirmation.
    client.post(f"/my/appointments/{thursday_off['flagged']}/confirm", headers=me)
    assert _status(app, thursday_off["flagged"]) == "booked"
    # Once the kept one is confirmed nothing is left to confirm: the "Confirm all" buttons go.
    client.post(f"/my/appointments/{thursday_off['kept']}/confirm", headers=me)
    page = client.get("/my/appointments", headers=me).text
    assert "/my/appointments/confirm" not in page


def test_a_session_being_re_arranged_offers_no_earlier_time_and_is_tentative_in_the_calendar(client, app, auth,
                                                                                            thursday_off):
    from icalendar import Calendar

    me = auth("patient", patient_id=thursday_off["patient"])
    page = client.get("/my/appointments", headers=me).text
    assert f'action="/my/appointments/{thursday_off["flagged"]}/earlier"' not in page
    assert f'action="/my/appointments/{thursday_off["kept"]}/earlier"' in page
    feed = Calendar.from_ical(client.get("/my/appointments.ics", headers=me).data)
    status = {str(event["uid"]): str(event["status"]) for event in feed.walk("VEVENT")}
    assert status == {f"appointment-{thursday_off['kept']}@careplan": "CONFIRMED",
                      f"appointment-{thursday_off['flagged']}@careplan": "TENTATIVE"}
