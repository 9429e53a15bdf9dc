"""Where a session is held or how to join it (issue 20). The patient's appointments page says it as the reminders
do: the visit's location and its address, "By video" with the link for a visit with no session in person; in the
patient's language. Staff pages say the site and the room held, or "By video" with the link; the desk's arrivals
are the trips to the clinic, which a video session is not."""
from __future__ import annotations

import re

import pytest

from tests import factories
from tests.web.conftest import PHONE, screenshot, sign_in

# As long as a real meeting link (a meeting number and its passcode): a phone cannot show it on one line.
LINK = "https://video.example.org/j/85012345678?pwd=bXlQZ2F0VnB4dGlNQ2hFa1Vxdz09"


# Where a link's text goes onto a new line: [text before, text after] for each break.
LINE_BREAKS = """(link) => { const text = link.textContent, tops = [];
  const walker = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode())
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
      tops.push(Math.round(range.getBoundingClientRect().top)); }
  const breaks = [];
  for (let i = 1; i < tops.length; i++) if (tops[i] > tops[i - 1]) breaks.push([text.slice(0, i), text.slice(i)]);
  return breaks; }"""


@pytest.fixture
def west_and_video(client, app, auth):
    """A massage at West (room Table W) on Monday 15 March 2027 09:00 and one by video on Tuesday 09:00, for a
    French-speaking patient who accepts video; a second patient's massage at West on Monday 11:00."""
    with app.app_context():
        west = factories.location("West", address="60 Atlantic Avenue")
        factories.room(west.id, name="Table W")
        factories.needs_room("massage")
        therapist = factories.provider(name="Marc Dubois", disciplines=("massage",), hours=None,
                                       availability=[{**w, "location_id": west.id}
                                                     for w in factories.windows("mon-tue 08:00-16:00")])
        patient = factories.patient(name="Zoé Lefèvre", hours="mon-fri 08:00-17:00", accepts_virtual=True,
                                    language="fr")
        other = factories.patient(name="Omar Haddad", hours="mon-fri 08:00-17:00")
        ids = {"patient": patient.id, "other": other.id, "mt": therapist.id}
    desk = auth("front_desk")
    for who, moment, extra in ((ids["patient"], "2027-03-15T09:00:00-04:00", {}),
                               (ids["patient"], "2027-03-16T09:00:00-04:00", {"virtual": True, "video_link": LINK}),
                               (ids["other"], "2027-03-15T11:00:00-04:00", {}),
                               (ids["other"], "2027-03-16T11:00:00-04:00", {})):
        answer = client.post("/api/v1/appointments", headers=desk, json={
            "patient_id": who, "provider_id": ids["mt"], "discipline": "massage", "start": moment, "minutes": 60,
            **extra})
        assert answer.status_code == 201, answer.get_json()
        ids.setdefault("appointments", []).append(answer.get_json()["id"])
    return ids


def _figure(page: str, label: str) -> int:
    return int(re.search(r'figures__number">(\d+)</span> ' + label, page).group(1))


def test_the_patient_reads_where_each_visit_is_or_that_it_is_by_video(client, auth, west_and_video):
    page = client.get("/my/appointments", headers=auth("patient", patient_id=west_and_video["patient"])).text
    assert "À West, 60 Atlantic Avenue" in page
    # The link is a link (it was plain text a phone could not open).
    assert f'<a class="video-link" href="{LINK}"' in page
    # The video visit's card says so instead of an address, in the patient's language, and once: its session
    # said "Par vidéo :" again above the link. The room never shows.
    assert page.count("Par vidéo") == 1 and "Par vidéo :" not in page
    assert page.count("60 Atlantic Avenue") == 1 and "Table W" not in page


def test_a_video_session_on_a_day_the_patient_comes_in_is_a_card_of_its_own(client, app, auth, west_and_video):
    """A card is a trip: the in-person visit names its site and ends with its last session in person; the video
    session after it is a card of its own, by video, with its link. Found in use: one card "12:00 - 14:50, at
    King West" held a video session at 14:00, telling the patient they were at King West until 14:50."""
    with app.app_context():
        psychotherapist = factories.provider(disciplines=("psychotherapy",), hours="mon-fri 08:00-16:00").id
    answer = client.post("/api/v1/appointments", headers=auth("front_desk"), json={
        "patient_id": west_and_video["patient"], "provider_id": psychotherapist, "discipline": "psychotherapy",
        "start": "2027-03-15T10:15:00-04:00", "minutes": 50, "virtual": True, "video_link": LINK})
    assert answer.status_code == 201, answer.get_json()
    page = client.get("/my/appointments", headers=auth("patient", patient_id=west_and_video["patient"])).text
    monday = page[page.index("lundi 15 mars 2027"):page.index("mardi 16 mars 2027")]
    cards = monday.split('<li class="visit-card">')
    in_person, video = cards[1], cards[2]
    assert "À West, 60 Atlantic Avenue" in in_person and "09:00 – 10:00" in in_person and LINK not in in_person
    assert "Par vidéo" in video and f'<a class="video-link" href="{LINK}"' in video and "West" not in video


def test_a_video_link_marks_where_it_may_wrap(client, auth, west_and_video):
    """Found in use at 390 px: the link wrapped mid-word ("https://video.riverside.exampl" / "e/join/2-8"). Its
    text marks the joints a line may break at (after a slash, before a dot or a query's parts); the address
    itself is untouched."""
    page = client.get("/my/appointments", headers=auth("patient", patient_id=west_and_video["patient"])).text
    assert (f'href="{LINK}" rel="noopener noreferrer">https://<wbr>video<wbr>.example<wbr>.org/<wbr>j/<wbr>'
            '85012345678<wbr>?pwd=<wbr>bXlQZ2F0VnB4dGlNQ2hFa1Vxdz09</a>') in page


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
    assert f'By video: <a class="video-link" href="{link}"' in day
    desk = client.get(f"/desk/appointments/{answer.get_json()['id']}", headers=auth("front_desk")).text
    assert f'By video: <a class="video-link" href="{link}"' in desk


def test_staff_pages_say_the_site_and_the_room_of_a_session(client, auth, west_and_video):
    """Found in use: only the rooms view said where a session was; the desk's day, the clinician's day, the
    appointment's page and the patient's record did not."""
    desk, clinician = auth("front_desk"), auth("provider", provider_id=west_and_video["mt"])
    monday = west_and_video["appointments"][0]
    for url, who in (("/desk?day=2027-03-15", desk), (f"/desk/appointments/{monday}", desk),
                     (f"/desk/patients/{west_and_video['patient']}", desk), ("/me/day?day=2027-03-15", clinician)):
        page = client.get(url, headers=who).text
        assert '<span class="session-place">West · Table W</span>' in page, url


def test_the_desks_arrivals_are_trips_to_the_clinic_and_video_sessions_are_listed_apart(client, auth,
                                                                                       west_and_video):
    """Found in use: the desk's Today counted a video session as an arrival to wait for."""
    desk = auth("front_desk")
    monday = client.get("/desk?day=2027-03-15", headers=desk).text
    assert _figure(monday, "arrivals") == 2 and "by video" not in monday
    tuesday = client.get("/desk?day=2027-03-16", headers=desk).text
    assert _figure(tuesday, "sessions") == 2
    assert _figure(tuesday, "arrivals") == 1 and _figure(tuesday, "by video") == 1
    arrivals = tuesday[tuesday.index('id="arrivals-title"'):tuesday.index('id="by-video-title"')]
    assert "Omar Haddad" in arrivals and "Zoé Lefèvre" not in arrivals
    by_video = tuesday[tuesday.index('id="by-video-title"'):tuesday.index('id="waiting-title"')]
    assert "Zoé Lefèvre" in by_video and "Omar Haddad" not in by_video


def test_on_a_phone_the_video_link_wraps_inside_the_patients_card(live_server, person, tab, west_and_video):
    """Found in use at 390 px: the link ran past the card's edge, and was not a link."""
    page = tab(PHONE)
    sign_in(page, person("patient", patient_id=west_and_video["patient"]))
    page.goto("/my/appointments")
    link = page.locator("a.video-link")
    assert link.get_attribute("href") == LINK
    card = page.locator(".visit-card", has=link)
    right_of = lambda locator: locator.bounding_box()["x"] + locator.bounding_box()["width"]  # noqa: E731
    screenshot(page, "patient-video-link-390")
    assert right_of(link) <= right_of(card) + 0.5
    # It wraps (390 px cannot hold it) at its joints, never inside a part that a line of its own would hold: the
    # passcode, longer than the line, is the only part that may break inside, and only once it has a line to itself.
    breaks = [len(before) for before, after in page.evaluate(LINE_BREAKS, link.element_handle())]
    joints = {m.start() for m in re.finditer(r"(?<=/)(?!/)|(?=[.?&#])|(?<==)", LINK)} | {0}
    inside_a_word = [at for at in breaks if LINK[at - 1].isalnum() and LINK[at].isalnum() and at not in joints]
    assert breaks and all(max(j for j in joints if j < at) in breaks for at in inside_a_word), breaks
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

