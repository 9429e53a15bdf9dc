"""Defects found by using the demo clinic as its people do (front desk, clinician, patient), each pinned here
through real HTTP requests to the application."""
from __future__ import annotations

import re
from datetime import timedelta

from careplan.clinic import service as clinic
from careplan.db import utcnow
from tests import factories
from tests.web.conftest import csrf_from


def test_a_french_patient_refused_a_staff_page_reads_the_refusal_in_french(app, client, auth):
    with app.app_context():
        patient_id = factories.patient(name="Josée Tremblay", language="fr").id
    me = auth("patient", patient_id=patient_id)
    page = client.get("/desk", headers=me)
    assert page.status_code == 403
    assert '<html lang="fr">' in page.text
    # The sentence naming who is signed in was English on the French page.
    assert "Signed in as" not in page.text and "you cannot open this page" not in page.text
    assert "vous ne pouvez pas ouvrir cette page" in page.text


def test_a_booking_outside_the_hours_names_the_start_and_the_clinician_not_away_from_and_an_id(app, client, auth):
    """The booking form's summary said "Away from: outside provider 2's working hours" (the time-off form's
    label for every field called start, and the clinician's record number) under "check these 2 fields"."""
    with app.app_context():
        ana = factories.provider(name="Ana Moreau", hours="mon-sun 12:00-16:00").id
        martha = factories.patient(name="Martha Kowalski", hours="mon-sun 07:00-21:00").id
        tomorrow = clinic.to_local(utcnow()).date() + timedelta(days=1)
    desk = auth("front_desk")
    form = client.get(f"/desk/appointments/new?provider={ana}&start={tomorrow.isoformat()}T08:30", headers=desk).text
    refused = client.post("/desk/appointments/new", headers=desk, data={
        "csrf_token": csrf_from(form), "provider": ana, "start": f"{tomorrow.isoformat()}T08:30",
        "patient_id": martha, "discipline": "physiotherapy", "minutes": "45", "book": "1"})
    assert refused.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', refused.text, re.S).group(0)
    assert "Away from" not in summary and "provider " not in summary
    assert "Start: outside Ana Moreau&#39;s working hours" in summary
    assert "check this field" in summary


def test_the_time_off_form_still_says_away_from(app, client, auth):
    with app.app_context():
        ana = factories.provider(name="Ana Moreau").id
    admin = auth("admin")
    page = client.get(f"/admin/providers/{ana}", headers=admin).text
    refused = client.post(f"/admin/providers/{ana}/time-off", headers=admin, data={
        "csrf_token": csrf_from(page), "start": "2027-03-10T09:00", "end": "2027-03-09T09:00"})
    assert refused.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', refused.text, re.S).group(0)
    assert "Away from" in summary or "Back at" in summary


def test_arrived_is_offered_only_on_the_appointments_own_day(app, client, auth, clinic_day):
    """Next week's appointment showed "Arrived", whose click only answered "Appointment 18 is not today"."""
    from sqlalchemy import select

    from careplan.extensions import db
    from careplan.scheduling.models import Appointment

    with app.app_context():
        visits = list(db.session.scalars(select(Appointment).where(Appointment.patient_id == clinic_day.martha)
                                         .order_by(Appointment.starts_at)))
        today = [a.id for a in visits if clinic.to_local(a.starts_at).date() == clinic_day.day]
        later = [a.id for a in visits if clinic.to_local(a.starts_at).date() > clinic_day.day]
    desk = auth("front_desk")
    assert 'value="arrived"' in client.get(f"/desk/appointments/{today[0]}", headers=desk).text
    next_week = client.get(f"/desk/appointments/{later[0]}", headers=desk).text
    assert 'value="arrived"' not in next_week and "Find another time" in next_week
    later_day = (clinic_day.day + timedelta(days=7)).isoformat()
    assert 'value="arrived"' not in client.get(f"/desk/calendar?date={later_day}", headers=desk).text
