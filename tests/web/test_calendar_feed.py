"""A patient or a clinician makes, replaces and stops their own calendar link on a page (found in use: the feed
could only be made through the API)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from careplan.db import utcnow
from tests import factories
from tests.web.conftest import book

LINK = re.compile(r'<code class="feed-url">http://localhost(/calendar/[^<]+\.ics)</code>')


@pytest.mark.parametrize("owner, page, home", [("patient", "/my/calendar-feed", "/my/appointments"),
                                               ("provider", "/me/calendar-feed", "/me/week")])
def test_a_person_makes_replaces_and_stops_their_calendar_link(client, app, auth, owner, page, home):
    with app.app_context():
        physio = factories.provider(name="Ana Moreau").id
        linh = factories.patient(name="Linh Tran").id
        book(linh, physio, "physiotherapy", utcnow().replace(second=0, microsecond=0) + timedelta(days=3))
    me = auth("patient", patient_id=linh) if owner == "patient" else auth("provider", provider_id=physio)
    assert f'href="{page}"' in client.get(home, headers=me).text
    first_view = client.get(page, headers=me).text
    assert "Make my calendar link" in first_view and "Stop the link" not in first_view
    first = LINK.search(client.post(page, headers=me, data={"action": "make"}).text).group(1)
    feed = client.get(first)
    assert feed.status_code == 200 and "BEGIN:VEVENT" in feed.text
    assert ("Ana Moreau" if owner == "patient" else "Linh Tran") in feed.text
    # Shown once: afterwards the page says when it was made, not the link.
    again = client.get(page, headers=me).text
    assert "/calendar/" not in again and "You made a calendar link on" in again and "Stop the link" in again
    second = LINK.search(client.post(page, headers=me, data={"action": "make"}).text).group(1)
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200
    stopped = client.post(page, headers=me, data={"action": "stop"})
    assert stopped.status_code == 302 and client.get(second).status_code == 404
    assert "Make my calendar link" in client.get(page, headers=me).text


def test_each_person_reaches_only_their_own_calendar_link_page(client, auth):
    assert client.get("/me/calendar-feed", headers=auth("patient")).status_code == 403
    assert client.get("/my/calendar-feed", headers=auth("front_desk")).status_code == 403
    assert client.get("/my/calendar-feed").status_code == 302
