"""A video session booked without its link (a plan's proposal never has one) gets it afterwards: from the desk or
the session's own clinician, through the API; the patient is told how to join, and their calendar updates."""
from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from careplan.db import utcnow
from careplan.extensions import db
from careplan.reminders import dispatch
from careplan.reminders.models import OutboundEmail
from careplan.scheduling.models import Appointment
from tests import factories
from tests.mail.conftest import smtp  # noqa: F401  (the loopback SMTP server fixture)

LINK = "https://video.example.org/room/5c1e"


def _video_session(app, **fields) -> tuple[int, int, int]:
    """A psychotherapy session by video a week ahead, without a link: (appointment, its clinician, patient)."""
    with app.app_context():
        therapist = factories.provider(name="Elena Petrova", disciplines=("psychotherapy",))
        patient = factories.patient(name="James O'Neill", accepts_virtual=True)
        session = factories.appointment(patient, therapist, discipline="psychotherapy", virtual=True, **fields)
        return session.id, therapist.id, patient.id


def _emails(app, appointment_id: int, kind: str) -> list[OutboundEmail]:
    with app.app_context():
        return list(db.session.scalars(select(OutboundEmail).where(
            OutboundEmail.appointment_id == appointment_id, OutboundEmail.kind == kind)))


def test_the_desk_gives_the_link_and_the_patient_is_told_how_to_join(app, client, auth, smtp):
    session, _, _ = _video_session(app)
    answer = client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK}, headers=auth("front_desk"))
    assert answer.status_code == 200, answer.json
    assert answer.json["video_link"] == LINK and answer.json["sequence"] == 1
    [notice] = _emails(app, session, "video-link")
    assert notice.status == "pending"
    with app.app_context():
        assert dispatch.dispatch_due().sent == [notice.id]
    message = smtp.inbox.messages[-1]
    assert message["X-Careplan-Kind"] == "video-link"
    assert "How to join your video session" in message["Subject"]
    assert f"By video: {LINK}" in message.get_body(("plain",)).get_content()
    assert f'<a href="{LINK}"' in message.get_body(("html",)).get_content()
    # The calendar part replaces the event the booking's e-mails gave: same UID, the next sequence, the link as
    # its place.
    part = [p for p in message.walk() if p.get_content_type() == "text/calendar"][0]
    calendar = Calendar.from_ical(part.get_content())
    event = calendar.walk("VEVENT")[0]
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["LOCATION"]) == LINK and int(event["SEQUENCE"]) == 1


def test_a_changed_link_supersedes_the_notice_not_yet_sent_and_the_same_link_changes_nothing(app, client, auth):
    session, _, _ = _video_session(app)
    desk = auth("front_desk")
    assert client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK}, headers=desk).status_code == 200
    again = client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK}, headers=desk)
    assert again.json["sequence"] == 1 and len(_emails(app, session, "video-link")) == 1
    other = "https://video.example.org/room/9a0b"
    assert client.patch(f"/api/v1/appointments/{session}", json={"video_link": other},
                        headers=desk).json["sequence"] == 2
    notices = sorted(_emails(app, session, "video-link"), key=lambda row: row.id)
    assert [row.status for row in notices] == ["cancelled", "pending"]
    # An empty link takes it away and tells nobody: the notice not yet sent is withdrawn too.
    cleared = client.patch(f"/api/v1/appointments/{session}", json={"video_link": ""}, headers=desk)
    assert cleared.status_code == 200 and cleared.json["video_link"] == "" and cleared.json["sequence"] == 3
    assert [row.status for row in sorted(_emails(app, session, "video-link"), key=lambda row: row.id)] == [
        "cancelled", "cancelled"]


def test_the_sessions_own_clinician_gives_it_and_nobody_else_but_staff(app, client, auth):
    session, therapist, patient = _video_session(app)
    own = client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK},
                       headers=auth("provider", provider_id=therapist))
    assert own.status_code == 200, own.json
    colleague = client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK + "x"},
                             headers=auth("provider"))
    assert colleague.status_code in (403, 404)
    patient_answer = client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK + "x"},
                                  headers=auth("patient", patient_id=patient))
    assert patient_answer.status_code == 403
    assert patient_answer.json["error"]["fields"] == {"video_link": "your role may not change this"}
    with app.app_context():
        assert db.session.get(Appointment, session).video_link == LINK


def test_refusals_name_the_field_and_change_nothing(app, client, auth):
    session, _, patient = _video_session(app)
    desk = auth("front_desk")
    for body, status, field in (({"video_link": "http://video.example.org/room"}, 422, "video_link"),
                                ({"video_link": "not a link"}, 422, "video_link"),
                                ({"video_link": "https://v.example.org/" + "a" * 500}, 422, "video_link"),
                                ({"video_link": LINK, "status": "confirmed"}, 422, "video_link")):
        answer = client.patch(f"/api/v1/appointments/{session}", json=body, headers=desk)
        assert answer.status_code == status, (body, answer.json)
        assert field in answer.json["error"]["fields"], answer.json
    with app.app_context():
        in_person = factories.appointment(patient, discipline="physiotherapy", days_ahead=8).id
    refused = client.patch(f"/api/v1/appointments/{in_person}", json={"video_link": LINK}, headers=desk)
    assert refused.status_code == 422
    assert refused.json["error"]["fields"] == {"video_link": "this session is held in person"}
    cancelled = client.patch(f"/api/v1/appointments/{session}", json={"status": "cancelled", "reason": "unwell"},
                             headers=desk)
    assert cancelled.status_code == 200
    late = client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK}, headers=desk)
    assert late.status_code == 409
    with app.app_context():
        assert db.session.get(Appointment, session).video_link == ""
        assert db.session.get(Appointment, in_person).video_link == ""
    assert _emails(app, session, "video-link") == [] and _emails(app, in_person, "video-link") == []


def test_a_session_that_is_over_takes_no_link(app, client, auth):
    session, _, _ = _video_session(app, starts_at=utcnow().replace(microsecond=0) - timedelta(hours=2))
    over = client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK}, headers=auth("front_desk"))
    assert over.status_code == 409 and over.json["error"]["fields"] == {"video_link": "session over"}


def test_cancelling_withdraws_a_link_notice_not_yet_sent(app, client, auth):
    session, _, _ = _video_session(app)
    desk = auth("front_desk")
    client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK}, headers=desk)
    client.patch(f"/api/v1/appointments/{session}", json={"status": "cancelled", "reason": "unwell"}, headers=desk)
    assert [row.status for row in _emails(app, session, "video-link")] == ["cancelled"]


def test_a_french_speaking_patient_is_told_in_french(app, client, auth, smtp):
    session, _, patient = _video_session(app)
    with app.app_context():
        from careplan.patients.models import Patient

        db.session.get(Patient, patient).language = "fr"
        db.session.commit()
    client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK}, headers=auth("front_desk"))
    with app.app_context():
        assert len(dispatch.dispatch_due().sent) == 1
    message = smtp.inbox.messages[-1]
    assert message["Subject"].startswith("Comment rejoindre votre séance vidéo")
    assert "a son lien. Ouvrez-le quelques minutes avant le début" in message.get_body(("plain",)).get_content()


def test_a_new_link_says_the_one_before_no_longer_works(app, client, auth, smtp):
    session, _, _ = _video_session(app)
    desk = auth("front_desk")
    client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK}, headers=desk)
    with app.app_context():
        dispatch.dispatch_due()
    first = smtp.inbox.messages[-1].get_body(("plain",)).get_content()
    assert "has its link" in first and "no longer works" not in first
    client.patch(f"/api/v1/appointments/{session}", json={"video_link": LINK + "-new"}, headers=desk)
    with app.app_context():
        dispatch.dispatch_due()
    second = smtp.inbox.messages[-1].get_body(("plain",)).get_content()
    assert "has a new link; the one sent before no longer works" in second and f"{LINK}-new" in second


def test_a_cancelled_video_session_is_said_to_be_by_video_without_its_link(app, client, auth, smtp):
    session, _, _ = _video_session(app, video_link=LINK)
    client.patch(f"/api/v1/appointments/{session}", json={"status": "cancelled", "reason": "unwell"},
                 headers=auth("front_desk"))
    with app.app_context():
        dispatch.dispatch_due()
    [cancellation] = [m for m in smtp.inbox.messages if m["X-Careplan-Kind"] == "cancellation"]
    text = cancellation.get_body(("plain",)).get_content()
    assert "By video" in text and LINK not in text
