"""A patient confirms and cancels their own appointments (the late-cancellation rule holds) and downloads them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from careplan.db import utcnow
from careplan.extensions import db
from careplan.plans.models import CarePlan
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.conftest import book


def test_a_patient_confirms_cancels_and_downloads_their_appointments(client, app, auth):
    with app.app_context():
        physio = factories.provider(name="Ana Moreau").id
        mine, other = factories.patient(name="Martha Kowalski").id, factories.patient().id
        start = utcnow().replace(second=0, microsecond=0)
        soon = book(mine, physio, "physiotherapy", start + timedelta(hours=3)).id
        later = book(mine, physio, "physiotherapy", start + timedelta(days=6)).id
        theirs = book(other, physio, "physiotherapy", start + timedelta(days=5)).id
    me = auth("patient", patient_id=mine)
    page = client.get("/my/appointments", headers=me).text
    assert f'/my/appointments/{later}/cancel' in page and "Add to my calendar (.ics)" in page

    assert client.post(f"/my/appointments/{later}/confirm", headers=me).status_code == 302
    assert "is confirmed." in client.get("/my/appointments", headers=me).text
    assert client.post(f"/my/appointments/{theirs}/confirm", headers=me).status_code == 404
    assert client.get(f"/my/appointments/{theirs}/cancel", headers=me).status_code == 404

    warning = client.get(f"/my/appointments/{soon}/cancel", headers=me).text
    assert "This is a late cancellation." in warning
    assert "late cancellation" not in client.get(f"/my/appointments/{later}/cancel", headers=me).text.split("<main")[1].split("Cancelling")[0]
    assert client.post(f"/my/appointments/{soon}/cancel", headers=me, data={"reason": "Sick"}).status_code == 302
    with app.app_context():
        cancelled = db.session.get(Appointment, soon)
        assert cancelled.status == "cancelled" and cancelled.late_cancellation and cancelled.cancel_reason == "Sick"
        assert db.session.get(Appointment, later).status == "confirmed"

    ics = client.get("/my/appointments.ics", headers=me)
    assert ics.mimetype == "text/calendar" and "attachment" in ics.headers["Content-Disposition"]
    assert ics.text.count("BEGIN:VEVENT") == 1 and "with Ana Moreau" in ics.text


def test_a_session_the_clinic_cannot_keep_is_cancelled_without_a_late_mark(client, app, auth):
    """Found in use: with her clinician off sick, Linh's cancel page said "This is a late cancellation... please
    keep it", and the cancellation was recorded as late; "I can't make it" offered to keep the time."""
    from careplan.providers.service import add_time_off

    with app.app_context():
        physio = factories.provider(name="Daniel Okafor").id
        mine = factories.patient(name="Linh Tran").id
        start = utcnow().replace(second=0, microsecond=0) + timedelta(hours=5)
        soon = book(mine, physio, "physiotherapy", start).id
        add_time_off(physio, {"starts_at": start - timedelta(hours=1), "ends_at": start + timedelta(hours=3),
                              "reason": "sick"})
    me = auth("patient", patient_id=mine)
    page = client.get(f"/my/appointments/{soon}/cancel", headers=me).text
    assert "Your clinician cannot keep this time." in page and "This is a late cancellation." not in page
    assert "Keep this time" not in client.get(f"/my/appointments/{soon}/move", headers=me).text
    answer = client.post(f"/my/appointments/{soon}/cancel", headers=me, data={"reason": "Sick"})
    assert answer.status_code == 302
    assert "It was a late cancellation." not in client.get("/my/appointments", headers=me).text
    with app.app_context():
        cancelled = db.session.get(Appointment, soon)
        assert cancelled.status == "cancelled" and not cancelled.late_cancellation


def test_a_drafted_plan_tells_the_patient_its_times_are_coming(client, app, auth):
    """A plan the desk has not scheduled yet said when it starts and nothing else, while "My appointments" told
    the patient to call to book: the plan now says the clinic is setting the times."""
    with app.app_context():
        patient = factories.patient()
        provider = factories.provider()
        factories.care_plan(patient, {"physiotherapy": provider}, status="draft")
        patient_id = patient.id
    page = client.get("/my/plan", headers=auth("patient", patient_id=patient_id)).text
    assert "The clinic is setting the times of your sessions now." in page
    with app.app_context():
        db.session.scalar(select(CarePlan).where(CarePlan.patient_id == patient_id)).status = "booked"
        db.session.commit()
    assert "setting the times" not in client.get("/my/plan", headers=auth("patient", patient_id=patient_id)).text


def test_the_move_page_in_french_keeps_its_words_agreeing(client, app, auth):
    """The move page's way back said "Le garder" (for a rendez-vous) under "La déplacer ici" (for a séance)."""
    with app.app_context():
        patient = factories.patient(language="fr")
        appointment = factories.appointment(patient, factories.provider(), days_ahead=7).id
        patient_id = patient.id
    page = client.get(f"/my/appointments/{appointment}/move", headers=auth("patient", patient_id=patient_id)).text
    assert "Garder cet horaire" in page and "Le garder" not in page

