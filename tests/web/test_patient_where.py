"""The patient's appointments page says where to go or how to join, as the reminders do (issue 20): the visit's
location and its address, "By video" for a visit with no session in person; in the patient's language."""
from __future__ import annotations

from tests import factories


def test_the_patient_reads_where_each_visit_is_or_that_it_is_by_video(client, app, auth):
    with app.app_context():
        west = factories.location("West", address="60 Atlantic Avenue")
        factories.room(west.id, name="Table W")
        factories.needs_room("massage")
        therapist = factories.provider(disciplines=("massage",), hours=None,
                                       availability=[{**w, "location_id": west.id}
                                                     for w in factories.windows("mon-tue 08:00-16:00")])
        patient = factories.patient(hours="mon-fri 08:00-17:00", accepts_virtual=True, language="fr")
        ids = {"patient": patient.id, "mt": therapist.id}
    desk = auth("front_desk")
    for day, extra in (("2027-03-15", {}), ("2027-03-16", {"virtual": True,
                                                          "video_link": "https://video.example.org/r/7"})):
        answer = client.post("/api/v1/appointments", headers=desk, json={
            "patient_id": ids["patient"], "provider_id": ids["mt"], "discipline": "massage",
            "start": f"{day}T09:00:00-04:00", "minutes": 60, **extra})
        assert answer.status_code == 201, answer.get_json()
    page = client.get("/my/appointments", headers=auth("patient", patient_id=ids["patient"])).text
    assert "À West, 60 Atlantic Avenue" in page
    assert "Par vidéo : https://video.example.org/r/7" in page
    # The video visit's card says so instead of an address; the room never shows.
    assert page.count("60 Atlantic Avenue") == 1 and "Table W" not in page


def test_the_clinician_and_the_desk_see_a_video_session_and_its_link(client, app, auth):
    """Found in use: a psychotherapy session by video looked like any visit on the clinician's day and the
    desk's appointment page, and the clinician who holds it had no link to it."""
    with app.app_context():
        psychotherapist = factories.provider(disciplines=("psychotherapy",), hours="mon-fri 08:00-16:00").id
        patient = factories.patient(hours="mon-fri 08:00-17:00", accepts_virtual=True).id
    link = "https://video.example.org/r/9"
    answer = client.post("/api/v1/appointments", headers=auth("front_desk"), json={
        "patient_id": patient, "provider_id": psychotherapist, "discipline": "psychotherapy",
        "start": "2027-03-16T09:00:00-04:00", "minutes": 50, "virtual": True, "video_link": link})
    assert answer.status_code == 201, answer.get_json()
    day = client.get("/me/day?day=2027-03-16", headers=auth("provider", provider_id=psychotherapist)).text
    assert f'By video: <a href="{link}"' in day
    desk = client.get(f"/desk/appointments/{answer.get_json()['id']}", headers=auth("front_desk")).text
    assert f'By video: <a href="{link}"' in desk
