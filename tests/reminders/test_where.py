"""A reminder says where (the location and its address) or how (the video link), and nothing more."""
from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from careplan.db import utcnow
from careplan.extensions import db
from careplan.reminders import dispatch, service
from tests import factories


def _reminder(app, smtp, days: int, **appointment_fields):
    with app.app_context():
        from careplan.clinic.service import update_settings

        update_settings({"address": "99 Clinic Road, Toronto"})
        site = factories.location("East clinic", address="1 Queen St E, Toronto")
        table = factories.room(site.id, name="Table by the window")
        provider = factories.provider(name="Dana Whitfield", disciplines=("massage",))
        patient = factories.patient(accepts_virtual=True)
        start = (utcnow() + timedelta(days=days)).replace(second=0, microsecond=0)
        fields = {"location_id": site.id, "room_id": table.id, "room_unit": 1}
        fields.update(appointment_fields)
        visit = factories.appointment(patient=patient, provider=provider, starts_at=start, discipline="massage",
                                      **fields)
        service.schedule_reminders(visit, now=utcnow() - timedelta(days=10))
        db.session.commit()
        assert dispatch.dispatch_due(due_before=start - timedelta(hours=24)).sent
        message = smtp.inbox.messages[-1]
        event = Calendar.from_ical([p for p in message.walk() if p.get_content_type() == "text/calendar"][0]
                                   .get_content()).walk("VEVENT")[0]
        return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content(),
                str(event["LOCATION"]))


def test_an_in_person_reminder_names_the_location_and_its_address_not_the_room(app, smtp):
    text, html, location = _reminder(app, smtp, 4)
    for body in (text, html):
        assert "At East clinic, 1 Queen St E, Toronto" in body
        assert "Table by the window" not in body and "99 Clinic Road" not in body
    # As the patient's calendar feed says it (the same event, by UID): the clinic, the site and its address.
    assert location.endswith(", East clinic, 1 Queen St E, Toronto") and "Table by the window" not in location


def test_a_video_reminder_gives_the_link_and_no_address(app, smtp):
    link = "https://video.example.org/join/7f3a"
    text, html, location = _reminder(app, smtp, 5, location_id=None, room_id=None, room_unit=None, virtual=True,
                                     video_link=link)
    assert f"By video: {link}" in text
    assert f'By video: <a href="{link}"' in html, "a link the patient can open from the e-mail"
    for body in (text, html):
        assert "1 Queen St E" not in body and "99 Clinic Road" not in body
    assert location == link


def test_the_emails_calendar_part_titles_and_places_the_event_as_the_patients_calendar_download(app, client,
                                                                                                  auth, smtp):
    """One UID, one title and one place: a calendar holding the event from both no longer flips between
    "Massage therapist appointment, <clinic>" and "Massage therapy with Dana Whitfield"."""
    _reminder(app, smtp, 4)
    message = smtp.inbox.messages[-1]
    mailed = Calendar.from_ical([p for p in message.walk() if p.get_content_type() == "text/calendar"][0]
                                .get_content()).walk("VEVENT")[0]
    with app.app_context():
        from careplan.scheduling.models import Appointment

        patient_id = db.session.get(Appointment, int(str(mailed["UID"]).split("-")[1].split("@")[0])).patient_id
    download = Calendar.from_ical(client.get("/my/appointments.ics",
                                             headers=auth("patient", patient_id=patient_id)).data)
    [fed] = [e for e in download.walk("VEVENT") if str(e["UID"]) == str(mailed["UID"])]
    assert str(mailed["SUMMARY"]) == str(fed["SUMMARY"]) == "Massage therapy with Dana Whitfield"
    assert str(mailed["LOCATION"]) == str(fed["LOCATION"])
