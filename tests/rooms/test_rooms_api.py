"""Locations and rooms over HTTP: the admin's records, who may change them, the 4xx of bad input."""
from careplan.extensions import db
from careplan.rooms.models import Location, Room
from tests import factories


def test_admin_adds_locations_and_rooms_and_everyone_staff_reads_them(client, auth):
    admin = auth("admin")
    made = client.post("/api/v1/locations", json={"name": "East", "address": "1 Queen St E"}, headers=admin)
    assert made.status_code == 201, made.get_json()
    east = made.get_json()
    assert made.headers["Location"].endswith(f"/api/v1/locations/{east['id']}")
    assert (east["name"], east["address"], east["active"]) == ("East", "1 Queen St E", True)
    room = client.post("/api/v1/rooms", json={"location_id": east["id"], "name": "Gym", "kind": "gym",
                                              "capacity": 4}, headers=admin)
    assert room.status_code == 201, room.get_json()
    assert room.get_json()["capacity"] == 4
    desk = auth("front_desk")
    assert [r["name"] for r in client.get(f"/api/v1/rooms?location_id={east['id']}", headers=desk).get_json()] == ["Gym"]
    assert client.get("/api/v1/rooms?kind=treatment-table", headers=desk).get_json() == []
    assert client.get(f"/api/v1/locations/{east['id']}", headers=auth("patient")).get_json()["name"] == "East"
    moved = client.patch(f"/api/v1/locations/{east['id']}", json={"address": "2 Queen St E"}, headers=admin)
    assert moved.get_json()["address"] == "2 Queen St E"


def test_only_the_admin_changes_them(client, auth):
    for role in ("front_desk", "provider", "patient"):
        answer = client.post("/api/v1/locations", json={"name": "West"}, headers=auth(role))
        assert answer.status_code == 403
    assert client.get("/api/v1/rooms", headers=auth("patient")).status_code == 403


def test_bad_input_names_the_field_and_writes_nothing(client, auth, app):
    admin = auth("admin")
    east = client.post("/api/v1/locations", json={"name": "East"}, headers=admin).get_json()
    cases = [
        ({"location_id": east["id"], "name": "T", "kind": "Treatment Table"}, 422, "kind"),
        ({"location_id": east["id"], "name": "T", "kind": "table", "capacity": 0}, 422, "capacity"),
        ({"location_id": east["id"], "name": "T", "kind": "table", "capacity": 1.5}, 422, "capacity"),
        ({"location_id": 999999, "name": "T", "kind": "table"}, 422, "location_id"),
        ({"name": "T", "kind": "table"}, 422, "location_id"),
    ]
    for body, status, field in cases:
        answer = client.post("/api/v1/rooms", json=body, headers=admin)
        assert answer.status_code == status, (body, answer.get_json())
        assert field in answer.get_json()["error"]["fields"], answer.get_json()
    twice = client.post("/api/v1/locations", json={"name": "east"}, headers=admin)
    assert twice.status_code == 409 and "name" in twice.get_json()["error"]["fields"]
    assert client.get("/api/v1/rooms/999999", headers=admin).status_code == 404
    with app.app_context():
        assert db.session.query(Room).count() == 0
        assert db.session.query(Location).count() == 1


def test_capacity_cannot_drop_below_the_sessions_holding_the_room_at_once(client, auth, app):
    with app.app_context():
        site = factories.location("East")
        gym = factories.room(site.id, "gym", capacity=2)
        factories.needs_room("kinesiology", "gym")
        provider = factories.provider(disciplines=("kinesiology",))
        for n in range(2):
            factories.appointment(factories.patient(), provider if n == 0 else factories.provider(
                disciplines=("kinesiology",)), discipline="kinesiology", room_id=gym.id, room_unit=n + 1,
                location_id=site.id)
        gym_id = gym.id
    answer = client.patch(f"/api/v1/rooms/{gym_id}", json={"capacity": 1}, headers=auth("admin"))
    assert answer.status_code == 409
    assert "2 coming appointments hold it at once" in answer.get_json()["error"]["fields"]["capacity"]
    assert client.patch(f"/api/v1/rooms/{gym_id}", json={"capacity": 3}, headers=auth("admin")).status_code == 200


def test_fewer_places_re_place_the_coming_appointments_when_they_never_need_more(client, auth, app):
    """Place 3 and place 2 held at different times: two places are enough, and the one on place 3 moves to a
    free one; the room never holds more than its capacity in the meantime (the guard checks every write)."""
    from datetime import timedelta

    from careplan.db import utcnow
    from careplan.scheduling.models import Appointment

    with app.app_context():
        site = factories.location("East")
        gym = factories.room(site.id, "gym", capacity=3)
        factories.needs_room("kinesiology", "gym")
        start = utcnow().replace(microsecond=0) + timedelta(days=7)
        ids = [factories.appointment(starts_at=start + timedelta(hours=hours), discipline="kinesiology",
                                     provider=factories.provider(disciplines=("kinesiology",)),
                                     room_id=gym.id, room_unit=unit, location_id=site.id).id
               for hours, unit in ((0, 3), (0, 2), (2, 3), (2, 1))]
        gym_id = gym.id
    answer = client.patch(f"/api/v1/rooms/{gym_id}", json={"capacity": 2}, headers=auth("admin"))
    assert answer.status_code == 200, answer.get_json()
    with app.app_context():
        units = [db.session.get(Appointment, i).room_unit for i in ids]
    assert sorted(units[:2]) == [1, 2] and sorted(units[2:]) == [1, 2] and units[1] == 2 and units[3] == 1
    assert client.patch(f"/api/v1/rooms/{gym_id}", json={"capacity": 1}, headers=auth("admin")).status_code == 409


def test_disciplines_say_which_room_kind_they_hold(client, auth):
    answer = client.patch("/api/v1/disciplines/massage", json={"room_kind": "treatment-table"}, headers=auth("admin"))
    assert answer.status_code == 200 and answer.get_json()["room_kind"] == "treatment-table"
    bad = client.patch("/api/v1/disciplines/massage", json={"room_kind": "A Table"}, headers=auth("admin"))
    assert bad.status_code == 422 and "room_kind" in bad.get_json()["error"]["fields"]
