"""A French patient reads French: the portal, the plan in plain words, the e-mail and its calendar part, the link
page; an English patient of the same clinic reads English, and the clinic's default covers the rest."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from icalendar import Calendar

from careplan import REPOSITORY
from careplan.clinic.models import ClinicSettings
from careplan.db import utcnow
from careplan.extensions import db
from careplan.reminders import dispatch, service
from tests import factories

FRENCH_DAYS = re.compile(r"\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d{1,2} \w+ \d{4}\b")
ENGLISH_DAYS = re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) \d{1,2} \w+ \d{4}\b")


def _acute_purpose() -> str:
    template = json.loads((REPOSITORY / "config" / "protocols" / "radiculopathy-lumbar-moderate.json").read_text())
    return template["phases"][0]["purpose"]


def _patient_with_a_session(app, **fields) -> tuple[int, int]:
    with app.app_context():
        physio = factories.provider(name="Ana Moreau")
        patient = factories.patient(name="Josée Tremblay", **fields)
        factories.care_plan(patient, {"physiotherapy": physio}, start=utcnow().date(),
                            phases=(("acute", 3, _acute_purpose(), [("physiotherapy", 2, 1, 45)]),))
        start = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
        visit = factories.appointment(patient=patient, provider=physio, starts_at=start)
        return patient.id, visit.id


def _reminder(app, smtp, appointment_id):
    with app.app_context():
        from careplan.scheduling.models import Appointment

        visit = db.session.get(Appointment, appointment_id)
        service.schedule_reminders(visit, now=utcnow() - timedelta(days=10))
        db.session.commit()
        assert dispatch.dispatch_due(due_before=visit.starts_at - timedelta(hours=24)).sent
    return smtp.inbox.messages[-1]


def test_a_french_patient_reads_the_portal_the_plan_and_the_email_in_french(app, client, auth, smtp):
    patient_id, appointment_id = _patient_with_a_session(app, language="fr")
    me = auth("patient", patient_id=patient_id)
    portal = client.get("/my/appointments", headers=me).text
    assert '<html lang="fr">' in portal
    for words in ("Mes rendez-vous", "Semaine du", "Confirmer cette semaine", "Tout confirmer", "Je ne peux pas venir",
                  "physiothérapeute", "Physiothérapie"):
        assert words in portal, words
    assert FRENCH_DAYS.search(portal) and not ENGLISH_DAYS.search(portal)
    plan = client.get("/my/plan", headers=me).text
    for words in ("Mon plan de soins", "Calmer le nerf irrité", "deux fois par semaine, 45 minutes chaque fois",
                  "Étape 1 : Phase aiguë", "3 semaines"):
        assert words in plan, words

    message = _reminder(app, smtp, appointment_id)
    assert message["Subject"].startswith("Rappel : ")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Bonjour Josée Tremblay," in body and "Je serai là" in body and "physiothérapeute" in body
        assert FRENCH_DAYS.search(body) and not ENGLISH_DAYS.search(body)
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    event = Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
    # Titled as their calendar feed and download title it (one UID: one title, whichever updated it last).
    assert str(event["SUMMARY"]) == "Physiothérapie avec Ana Moreau"

    # Their calendar speaks French too: the download from the portal and the private feed.
    download = client.get("/my/appointments.ics", headers=me).text
    feed_url = client.post(f"/api/v1/patients/{patient_id}/calendar-feed", headers=me).json["url"]
    feed = client.get("/calendar/" + feed_url.rsplit("/calendar/", 1)[1]).text
    for calendar_text in (download, feed):
        assert "SUMMARY:Physiothérapie avec Ana Moreau" in calendar_text, calendar_text

    # French puts a space before a colon, in the lines the template joins as in the catalogue's.
    assert "Je serai là : http" in text and "Je ne peux pas venir : montrez-moi d'autres heures : http" in text
    confirm = re.search(r"Je serai là : \S+(/api/v1/appointment-links/\S+)", text).group(1)
    page = client.get(confirm).text
    assert "Confirmer votre rendez-vous" in page and "Confirmer ma présence" in page
    done = client.post(confirm).text
    assert "Merci : votre rendez-vous est confirmé." in done
    assert "Ce lien a déjà été utilisé." in client.post(confirm).text


def test_an_english_patient_reads_english_and_the_clinic_default_covers_the_others(app, client, auth, smtp):
    english_id, english_visit = _patient_with_a_session(app, language="en")
    unset_id, unset_visit = _patient_with_a_session(app)
    assert "My appointments" in client.get("/my/appointments", headers=auth("patient", patient_id=english_id)).text
    assert "My appointments" in client.get("/my/appointments", headers=auth("patient", patient_id=unset_id)).text
    with app.app_context():
        db.session.get(ClinicSettings, 1).default_language = "fr"
        db.session.commit()
    assert "Mes rendez-vous" in client.get("/my/appointments", headers=auth("patient", patient_id=unset_id)).text
    assert "My appointments" in client.get("/my/appointments", headers=auth("patient", patient_id=english_id)).text
    assert _reminder(app, smtp, unset_visit)["Subject"].startswith("Rappel : ")
    assert _reminder(app, smtp, english_visit)["Subject"].startswith("Reminder: ")
    # Staff pages stay in English whatever the clinic's default.
    assert "Today" in client.get("/desk", headers=auth("front_desk")).text


def test_the_language_is_on_the_patients_record(app, client, auth):
    desk = auth("front_desk")
    with app.app_context():
        patient_id = factories.patient().id
    answer = client.patch(f"/api/v1/patients/{patient_id}", headers=desk, json={"language": "fr"})
    assert answer.status_code == 200 and answer.json["language"] == "fr"
    refused = client.patch(f"/api/v1/patients/{patient_id}", headers=desk, json={"language": "de"})
    assert refused.status_code == 422 and "language" in refused.json["error"]["fields"]
    assert client.patch("/api/v1/clinic", headers=auth("admin"),
                        json={"default_language": "fr"}).json["default_language"] == "fr"


def test_the_front_desk_sets_the_language_on_the_patients_page(app, client, auth):
    desk = auth("front_desk")
    with app.app_context():
        patient = factories.patient(name="Josée Tremblay")
        patient_id, version = patient.id, patient.version
    page = client.get(f"/desk/patients/{patient_id}", headers=desk).text
    assert '<option value="" selected>' in page
    form = {"name": "Josée Tremblay", "email": "josee@mail.example", "language": "fr", "version": str(version)}
    assert client.post(f"/desk/patients/{patient_id}", headers=desk, data=form).status_code == 302
    with app.app_context():
        from careplan.patients.models import Patient

        assert db.session.get(Patient, patient_id).language == "fr"


def test_the_sign_in_page_stays_in_english_whatever_the_clinics_default(app, client):
    with app.app_context():
        db.session.get(ClinicSettings, 1).default_language = "fr"
        db.session.commit()
    page = client.get("/login").text
    assert '<html lang="en">' in page or 'lang="en"' in page
    assert "Se connecter" not in page
