"""Giving a video session its link from the pages: the desk's page of the appointment and the clinician's own
day. An in-person session has no such form; a wrong link is said so, and nothing changes."""
from __future__ import annotations

from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.conftest import csrf_from

LINK = "https://video.example.org/room/5c1e"


def _sessions(app):
    with app.app_context():
        therapist = factories.provider(name="Elena Petrova", disciplines=("psychotherapy",))
        patient = factories.patient(name="James O'Neill", accepts_virtual=True)
        video = factories.appointment(patient, therapist, discipline="psychotherapy", virtual=True)
        in_person = factories.appointment(patient, therapist, discipline="psychotherapy", days_ahead=8)
        return video.id, in_person.id, therapist.id, clinic.to_local(video.starts_at).date()


def test_the_desk_sends_the_link_from_the_appointments_page(app, client, auth):
    video, in_person, _, _ = _sessions(app)
    desk = auth("front_desk")
    page = client.get(f"/desk/appointments/{video}", headers=desk).text
    assert 'action="/desk/appointments/%d/video-link"' % video in page and "Send the link" in page
    assert "/video-link" not in client.get(f"/desk/appointments/{in_person}", headers=desk).text
    wrong = client.post(f"/desk/appointments/{video}/video-link", headers=desk, follow_redirects=True,
                        data={"csrf_token": csrf_from(page), "video_link": "http://video.example.org/x",
                              "back": f"/desk/appointments/{video}"})
    # Which session's link, why, and what was typed, kept in the field with the reason beside it.
    assert "The video link for James O&#39;Neill," in wrong.text and "was not saved" in wrong.text
    assert 'value="http://video.example.org/x"' in wrong.text and 'aria-invalid="true"' in wrong.text
    assert f'<p class="field-error" id="video-link-error-{video}">Not a valid https address.</p>' in wrong.text
    with app.app_context():
        assert db.session.get(Appointment, video).video_link == ""
    sent = client.post(f"/desk/appointments/{video}/video-link", headers=desk, follow_redirects=True,
                       data={"csrf_token": csrf_from(page), "video_link": LINK, "back": f"/desk/appointments/{video}"})
    assert "James O&#39;Neill will get the link by e-mail." in sent.text
    assert f'href="{LINK}"' in sent.text and "Change the link" in sent.text
    again = client.post(f"/desk/appointments/{video}/video-link", headers=desk, follow_redirects=True,
                        data={"csrf_token": csrf_from(page), "video_link": LINK, "back": f"/desk/appointments/{video}"})
    assert "That is the session&#39;s link already; nothing was sent." in again.text
    with app.app_context():
        assert db.session.get(Appointment, video).video_link == LINK


def test_the_clinician_gives_the_link_from_their_own_day(app, client, auth):
    video, _, therapist, day = _sessions(app)
    own = auth("provider", provider_id=therapist)
    page = client.get(f"/me/day?day={day.isoformat()}", headers=own).text
    assert 'action="/desk/appointments/%d/video-link"' % video in page
    back = f"/me/day?day={day.isoformat()}"
    sent = client.post(f"/desk/appointments/{video}/video-link", headers=own, follow_redirects=True,
                       data={"csrf_token": csrf_from(page), "video_link": LINK, "back": back})
    assert sent.status_code == 200 and "will get the link by e-mail" in sent.text
    assert f'href="{LINK}"' in sent.text
    # A colleague cannot set it.
    colleague = auth("provider")
    refused = client.post(f"/desk/appointments/{video}/video-link", headers=colleague, follow_redirects=True,
                          data={"csrf_token": csrf_from(page), "video_link": LINK + "x", "back": back})
    assert refused.status_code == 404, "a colleague's patient outside their care team is not theirs to see"
    with app.app_context():
        assert db.session.get(Appointment, video).video_link == LINK


def test_the_desk_is_told_of_video_sessions_coming_without_a_link(app, client, auth):
    video, _, _, _ = _sessions(app)
    desk = auth("front_desk")
    today = client.get("/desk/calendar", headers=desk).text
    assert "James O&#39;Neill: video session without a link" in today
    assert f'href="/desk/appointments/{video}">Give the link</a>' in today
    page = client.get(f"/desk/appointments/{video}", headers=desk).text
    client.post(f"/desk/appointments/{video}/video-link", headers=desk,
                data={"csrf_token": csrf_from(page), "video_link": LINK, "back": f"/desk/appointments/{video}"})
    assert "video session without a link" not in client.get("/desk/calendar", headers=desk).text
