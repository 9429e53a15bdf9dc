"""The administrator's locations and rooms page: sites with their rooms, adding both, changing a capacity;
seen in Chromium as the admin sees it."""
from __future__ import annotations

from careplan.extensions import db
from careplan.rooms.models import Room
from tests import factories
from tests.web.conftest import check_page_basics, make_person, screenshot


def test_an_admin_adds_a_location_and_a_room_and_changes_its_capacity(client, app, auth):
    admin = auth("admin")
    empty = client.get("/admin/locations", headers=admin)
    assert empty.status_code == 200 and "no locations yet" in empty.text
    refused = client.post("/admin/locations", headers=admin, data={"name": "", "address": ""})
    assert refused.status_code == 422 and 'href="#name"' in refused.text
    assert client.post("/admin/locations", headers=admin,
                       data={"name": "East", "address": "1 Queen St E"}).status_code == 302
    with app.app_context():
        east = factories.location("West")  # a second one, through the service
        east_id = east.id
    bad = client.post("/admin/rooms", headers=admin, data={"location_id": str(east_id), "room_name": "Gym",
                                                          "kind": "gym", "capacity": "0"})
    assert bad.status_code == 422 and 'href="#capacity"' in bad.text
    made = client.post("/admin/rooms", headers=admin, data={"location_id": str(east_id), "room_name": "Gym",
                                                           "kind": "gym", "capacity": "3"})
    assert made.status_code == 302
    with app.app_context():
        room_id = db.session.scalar(db.select(Room.id).where(Room.name == "Gym"))
    assert client.post(f"/admin/rooms/{room_id}", headers=admin, data={"capacity": "4"}).status_code == 302
    with app.app_context():
        assert db.session.get(Room, room_id).capacity == 4
    page = client.get("/admin/locations", headers=admin).text
    assert "1 Queen St E" in page and f'id="room-{room_id}"' in page
    assert client.get("/admin/locations", headers=auth("front_desk")).status_code == 403


def test_the_locations_page_in_chromium(app, open_as):
    with app.app_context():
        for name, address in (("King West", "120 King Street West"), ("Liberty Village", "60 Atlantic Avenue")):
            site = factories.location(name, address=address)
            factories.room(site.id, name="Table 1")
            factories.room(site.id, "gym", capacity=3, name="Gym")
        factories.needs_room("massage")
        admin = make_person("admin")
    page = open_as(admin)
    page.goto("/admin/locations")
    check_page_basics(page)
    assert page.get_by_role("heading", name="King West").is_visible()
    assert page.locator("#room_kind-massage").input_value() == "treatment-table"
    page.get_by_label("Name", exact=True).fill("Midtown")
    page.get_by_label("Room name").fill("Table 2")
    screenshot(page, "admin-locations")


def test_a_providers_hours_keep_their_locations_through_the_page(client, app, auth):
    with app.app_context():
        east, west = factories.location("East"), factories.location("West")
        windows = factories.windows("mon-tue 08:00-16:00")
        provider = factories.provider(hours=None, availability=[{**windows[0], "location_id": east.id},
                                                                {**windows[1], "location_id": west.id}])
        provider_id, version, east_id, west_id = provider.id, provider.version, east.id, west.id
    admin = auth("admin")
    page = client.get(f"/admin/providers/{provider_id}", headers=admin).text
    assert 'name="availability-1-location"' in page and f'<option value="{west_id}" selected>West</option>' in page
    form = {"name": "Moved", "email": "moved@clinic.example", "phone": "", "active": "on",
            "disciplines": "physiotherapy", "version": str(version),
            "availability-0-day": "mon", "availability-0-start": "08:00", "availability-0-end": "16:00",
            "availability-0-location": str(west_id),
            "availability-1-day": "tue", "availability-1-start": "08:00", "availability-1-end": "16:00",
            "availability-1-location": str(west_id)}
    assert client.post(f"/admin/providers/{provider_id}", headers=admin, data=form).status_code == 302
    with app.app_context():
        from careplan.providers.service import get_provider

        assert [w.location_id for w in get_provider(provider_id).availability] == [west_id, west_id]


def test_the_rooms_view_of_a_location_in_chromium(app, open_as, client, auth):
    from datetime import datetime, timedelta

    from careplan.clinic import service as clinic

    with app.app_context():
        site = factories.location("King West", address="120 King Street West")
        table = factories.room(site.id, name="Table 1")
        gym = factories.room(site.id, "gym", capacity=2, name="Gym")
        today = datetime.now(clinic.zone()).date() + timedelta(days=1)
        start = datetime.combine(today, datetime.min.time().replace(hour=10), tzinfo=clinic.zone())
        massage = factories.provider(disciplines=("massage",))
        kin = factories.provider(disciplines=("kinesiology",))
        factories.appointment(factories.patient(name="Martha Kowalski"), massage, start, discipline="massage",
                              room_id=table.id, room_unit=1, location_id=site.id, minutes=60)
        for unit, name in ((1, "James O'Neill"), (2, "Linh Tran")):
            factories.appointment(factories.patient(name=name), kin if unit == 1 else factories.provider(
                disciplines=("kinesiology",)), start, discipline="kinesiology", room_id=gym.id, room_unit=unit,
                location_id=site.id)
        desk = make_person("front_desk")
        site_id = site.id
    page = open_as(desk)
    page.goto(f"/desk/calendar?date={today.isoformat()}")
    page.get_by_role("link", name="King West").click()
    page.wait_for_url(f"**/desk/calendar/rooms?date={today.isoformat()}&location={site_id}")
    check_page_basics(page)
    table_card = page.locator("section.cal-list", has=page.get_by_role("heading", name="Table 1"))
    assert "Martha Kowalski" in table_card.inner_text()
    assert page.get_by_role("heading", name="Gym, place 2").is_visible()
    assert "Linh Tran" in page.locator("section.cal-list", has=page.get_by_role("heading", name="Gym, place 2")).inner_text()
    screenshot(page, "calendar-rooms")
    assert client.get("/desk/calendar/rooms?location=999999", headers=auth("front_desk")).status_code == 422


def test_the_desk_records_video_consent_and_the_sites_a_patient_comes_to(client, app, auth):
    with app.app_context():
        east, west = factories.location("East"), factories.location("West")
        patient = factories.patient()
        patient_id, version, west_id = patient.id, patient.version, west.id
    desk = auth("front_desk")
    page = client.get(f"/desk/patients/{patient_id}", headers=desk).text
    assert 'id="accepts_virtual"' in page and f'id="location-{west_id}"' in page
    form = {"name": "Moved", "email": "moved@mail.example", "phone": "", "version": str(version),
            "accepts_virtual": "on", "locations_shown": "on", "location_ids": str(west_id),
            "availability-0-day": "mon", "availability-0-start": "09:00", "availability-0-end": "12:00"}
    assert client.post(f"/desk/patients/{patient_id}", headers=desk, data=form).status_code == 302
    with app.app_context():
        from careplan.patients.service import get_patient

        saved = get_patient(patient_id)
        assert (saved.accepts_virtual, saved.location_ids) == (True, [west_id])
    bad = client.post(f"/desk/patients/{patient_id}", headers=desk,
                      data={**form, "version": str(version + 1), "location_ids": "999999"})
    assert bad.status_code == 422


def test_before_any_location_the_page_explains_instead_of_an_empty_select(client, auth):
    page = client.get("/admin/locations", headers=auth("admin")).text
    assert 'id="location_id"' not in page and 'action="/admin/rooms"' not in page
    assert "add a location first" in page
    assert "PATCH" not in page and "/api/" not in page


def test_an_admin_sets_which_room_kind_a_discipline_holds_on_the_page(client, app, auth):
    from careplan.clinic.models import Discipline

    admin = auth("admin")
    with app.app_context():
        factories.room(factories.location("East").id, "gym", capacity=2, name="Gym")
    page = client.get("/admin/locations", headers=admin).text
    assert 'id="room_kind-kinesiology"' in page and '<option value="gym">' in page
    done = client.post("/admin/disciplines/kinesiology/room-kind", headers=admin, data={"room_kind": "Gym "})
    assert done.status_code == 302 and done.headers["Location"].endswith("#kind-kinesiology")
    with app.app_context():
        assert db.session.get(Discipline, "kinesiology").room_kind == "gym"
    bad = client.post("/admin/disciplines/kinesiology/room-kind", headers=admin, data={"room_kind": "a room!"},
                      follow_redirects=True)
    assert "letters, digits and dashes" in bad.text
    cleared = client.post("/admin/disciplines/kinesiology/room-kind", headers=admin, data={"room_kind": ""},
                          follow_redirects=True)
    assert "sessions hold no room" in cleared.text
    with app.app_context():
        assert db.session.get(Discipline, "kinesiology").room_kind is None
    assert client.post("/admin/disciplines/kinesiology/room-kind", headers=auth("front_desk"),
                       data={"room_kind": "gym"}).status_code == 403


def test_the_locations_page_and_the_rooms_view_in_french(client, app, auth, monkeypatch):
    """Staff pages speak English today (careplan.i18n.STAFF_LANGUAGE); their words all have their French."""
    monkeypatch.setattr("careplan.i18n.STAFF_LANGUAGE", "fr")
    with app.app_context():
        site = factories.location("Est")
        factories.room(site.id, "gym", capacity=2, name="Gym")
        site_id = site.id
    admin = auth("admin")
    page = client.get("/admin/locations", headers=admin).text
    assert "Sites et salles" in page and "Séances simultanées" in page and "Ajouter la salle" in page
    rooms = client.get(f"/desk/calendar/rooms?date=2027-03-15&location={site_id}",
                       headers=auth("front_desk")).text
    assert "Salles à Est" in rooms and "Gym, place 2" in rooms and "Libre toute la journée." in rooms
