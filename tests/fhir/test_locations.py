"""FHIR Location (sites and their rooms) and HealthcareService (disciplines); an appointment's participants
include the room it holds (issue 20). Every resource validates with fhir.resources' R4B models."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests import factories
from tests.fhir.test_fhir import entries, fetch


def _places(app):
    with app.app_context():
        site = factories.location("King West", address="120 King Street West")
        table = factories.room(site.id, name="Table 1")
        factories.needs_room("massage")
        provider = factories.provider(disciplines=("massage",))
        start = datetime(2027, 3, 15, 10, 0, tzinfo=ZoneInfo("America/Toronto"))
        held = factories.appointment(factories.patient(), provider, start, discipline="massage", room_id=table.id,
                                     room_unit=1, location_id=site.id)
        video = factories.appointment(factories.patient(accepts_virtual=True), provider, start + timedelta(hours=2),
                                      discipline="massage", virtual=True, video_link="https://video.example/1")
        return site.id, table.id, held.id, video.id


def test_sites_and_rooms_are_locations(client, auth, app):
    site, table, _, _ = _places(app)
    headers = auth("patient")
    found = {r["id"]: r for r in entries(fetch(client, "/fhir/Location", headers))}
    assert found[str(site)]["address"] == {"text": "120 King Street West"}
    room = found[f"room-{table}"]
    assert room["partOf"]["reference"] == f"Location/{site}"
    assert room["physicalType"]["coding"][0]["code"] == "ro" and "treatment-table" in room["description"]
    assert fetch(client, f"/fhir/Location/room-{table}", headers) == room
    # A site's id is the API's (the service contract), and reading it by that id finds it.
    assert fetch(client, f"/fhir/Location/{site}", headers) == found[str(site)]
    rooms = entries(fetch(client, f"/fhir/Location?partof=Location/{site}", headers))
    assert [r["id"] for r in rooms] == [f"room-{table}"]
    assert client.get("/fhir/Location/room-999999", headers=headers).status_code == 404


def test_disciplines_are_healthcare_services_at_the_sites(client, auth, app):
    site, _, _, _ = _places(app)
    service = fetch(client, "/fhir/HealthcareService/massage", auth("front_desk"))
    assert service["type"][0]["coding"][0]["code"] == "massage"
    assert service["location"] == [{"reference": f"Location/{site}", "display": "King West"}]
    assert fetch(client, "/fhir/HealthcareService/mental-performance", auth("front_desk"))["name"]


def test_an_appointment_names_the_room_it_holds_and_a_video_one_none(client, auth, app):
    _, table, held, video = _places(app)
    headers = auth("front_desk")
    appointment = fetch(client, f"/fhir/Appointment/{held}", headers)
    actors = [p["actor"]["reference"] for p in appointment["participant"]]
    assert f"Location/room-{table}" in actors
    online = fetch(client, f"/fhir/Appointment/{video}", headers)
    assert not any(p["actor"]["reference"].startswith("Location/") for p in online["participant"])
    assert online["description"].endswith("(by video)")


def test_calendar_feeds_say_where_or_how(app):
    from icalendar import Calendar

    from careplan.db import utcnow
    from careplan.extensions import db
    from careplan.fhir.feeds import icalendar_of
    from careplan.scheduling.models import Appointment

    _, _, held, video = _places(app)
    with app.app_context():
        rows = [db.session.get(Appointment, held), db.session.get(Appointment, video)]
        events = Calendar.from_ical(icalendar_of(rows, "Dana", for_provider=True, now=utcnow())).walk("VEVENT")
        assert "King West, 120 King Street West" in str(events[0]["LOCATION"])
        assert str(events[1]["LOCATION"]) == "https://video.example/1"
