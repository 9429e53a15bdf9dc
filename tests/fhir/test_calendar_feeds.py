"""Calendar feeds parse with icalendar, match the FHIR API, and keep 09:00 local across a DST change."""
from __future__ import annotations

from datetime import timezone
from urllib.parse import quote, urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import select

from careplan.audit.models import AuditEvent
from careplan.caller import Caller
from careplan.errors import NotFound
from careplan.extensions import db
from careplan.fhir import feeds
from tests import factories
from tests.fhir.conftest import local

NOW = local(2027, 3, 9, 12)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(feeds, "utcnow", lambda: NOW.astimezone(timezone.utc))


def _open(client, owner, owner_id, headers):
    response = client.post(f"/api/v1/{owner}s/{owner_id}/calendar-feed", headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _calendar(client, url, status=200):
    response = client.get(urlsplit(url).path)
    assert response.status_code == status
    if status != 200:
        return None
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data), response.get_data(as_text=True)


def test_patient_feed_shows_what_the_api_shows_across_the_dst_change(client, auth, clinic, frozen):
    staff = auth("front_desk")
    created = _open(client, "patient", clinic.martha, staff)
    assert created["url"].endswith(".ics") and created["token"] in created["url"]
    cal, text = _calendar(client, created["url"])
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}

    since = quote((NOW - feeds.FEED_PAST).isoformat())
    until = quote((NOW + feeds.FEED_AHEAD).isoformat())
    bundle = client.get(f"/fhir/Appointment?patient={clinic.martha}&date=ge{since}&date=lt{until}",
                        headers=staff).get_json()
    assert set(events) == {f"appointment-{e['resource']['id']}@careplan" for e in bundle["entry"]}
    a = clinic.appointments
    assert set(events) == {f"appointment-{i}@careplan" for i in (a.massage, a.no_show, a.cancelled, a.before_dst,
                                                                a.after_dst)}

    before, after = events[f"appointment-{a.before_dst}@careplan"], events[f"appointment-{a.after_dst}@careplan"]
    for event, utc_hour in ((before, 14), (after, 13)):
        start = event.decoded("dtstart")
        assert (start.hour, start.minute) == (9, 0) and str(start.tzinfo) == "America/Toronto"
        assert start.astimezone(timezone.utc).hour == utc_hour
    assert "DTSTART;TZID=America/Toronto:20270312T090000" in text
    assert "DTSTART;TZID=America/Toronto:20270315T090000" in text
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["America/Toronto"]

    cancelled = events[f"appointment-{a.cancelled}@careplan"]
    assert cancelled["status"] == "CANCELLED" and cancelled["sequence"] == 2
    assert before["status"] == "CONFIRMED" and before["sequence"] == 1
    assert str(before["summary"]) == "Physiotherapy with Ana Moreau"
    assert "lumbar" not in text.lower() and "radiculopathy" not in text.lower()


def test_provider_feed_names_the_patient(client, auth, clinic, app, frozen):
    with app.app_context():
        provider_user = factories.user("provider", provider_id=clinic.physio)
        headers = factories.bearer(provider_user)
    cal, _ = _calendar(client, _open(client, "provider", clinic.physio, headers)["url"])
    summaries = sorted(str(e["summary"]) for e in cal.walk("VEVENT"))
    assert summaries == ["Physiotherapy: Martha Kowalski"] * 3


def test_rotating_and_revoking_stop_the_old_url(client, auth, clinic):
    staff = auth("admin")
    first = _open(client, "patient", clinic.martha, staff)
    second = _open(client, "patient", clinic.martha, staff)
    _calendar(client, first["url"], 404)
    _calendar(client, second["url"])
    status = client.get(f"/api/v1/patients/{clinic.martha}/calendar-feed", headers=staff)
    assert status.status_code == 200 and set(status.get_json()) == {"created_at"}
    assert client.delete(f"/api/v1/patients/{clinic.martha}/calendar-feed", headers=staff).status_code == 204
    _calendar(client, second["url"], 404)
    assert client.get(f"/api/v1/patients/{clinic.martha}/calendar-feed", headers=staff).status_code == 404


def test_only_the_owner_or_staff_manage_a_feed(client, auth, clinic, app):
    with app.app_context():
        martha = factories.bearer(factories.user("patient", patient_id=clinic.martha))
        physio = factories.bearer(factories.user("provider", provider_id=clinic.physio))
    assert client.post(f"/api/v1/patients/{clinic.martha}/calendar-feed", headers=martha).status_code == 201
    assert client.post(f"/api/v1/patients/{clinic.james}/calendar-feed", headers=martha).status_code == 404
    # On Martha's care team, so Martha exists for them, but her calendar is hers.
    assert client.post(f"/api/v1/patients/{clinic.martha}/calendar-feed", headers=physio).status_code == 403
    # A colleague's feed is outside a provider's reach: as if it did not exist.
    assert client.post(f"/api/v1/providers/{clinic.masseur}/calendar-feed", headers=physio).status_code == 404
    assert client.post(f"/api/v1/providers/{clinic.physio}/calendar-feed", headers=martha).status_code == 403
    assert client.post(f"/api/v1/patients/{clinic.martha}/calendar-feed").status_code == 401
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_a_command_without_a_user_opens_and_revokes_feeds(client, clinic, app, frozen):
    """An operator's command or a worker has no user: it manages any existing owner's feed as staff do (it
    used to crash reading the missing user's role), and an owner that does not exist is still a 404."""
    command = Caller.system("cli")
    with app.app_context():
        for owner, owner_id in (("provider", clinic.physio), ("patient", clinic.martha)):
            feed, token = feeds.open_feed(owner, owner_id, caller=command)
            assert feeds.feed_for_token(token, caller=command).id == feed.id
            assert feeds.get_feed(owner, owner_id, caller=command).id == feed.id
            cal, _ = _calendar(client, f"/calendar/{token}.ics")
            assert len(cal.walk("VEVENT")) == (3 if owner == "provider" else 5)
        feeds.revoke_feed("provider", clinic.physio, caller=command)
        with pytest.raises(NotFound):
            feeds.get_feed("provider", clinic.physio, caller=command)
        with pytest.raises(NotFound):
            feeds.open_feed("patient", clinic.martha + 1000, caller=command)
        made = db.session.scalars(select(AuditEvent).where(AuditEvent.resource == "calendar_feed",
                                                           AuditEvent.action == "create")).all()
        assert [(event.origin, event.user_id) for event in made] == [("cli", None), ("cli", None)]
