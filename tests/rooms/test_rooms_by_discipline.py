"""A room as the service contract says it: `{"location_id", "name", "capacity", "disciplines"}`, the disciplines
whose sessions it serves. Inside, a room has a kind and a discipline names the kind it holds; the two say the
same thing, and each answer gives both."""
from careplan.clinic.models import Discipline
from careplan.extensions import db


def _kinds(app, *codes) -> dict[str, str | None]:
    with app.app_context():
        return {code: db.session.get(Discipline, code).room_kind for code in codes}


def test_a_room_made_for_disciplines_is_of_the_kind_they_hold_and_lists_them(client, auth, app):
    admin = auth("admin")
    east = client.post("/api/v1/locations", json={"name": "East"}, headers=admin).get_json()
    table = client.post("/api/v1/rooms", json={"location_id": east["id"], "name": "Table 1", "capacity": 1,
                                               "disciplines": ["massage"]}, headers=admin)
    assert table.status_code == 201, table.get_json()
    # Massage held no room: it now holds a room of the kind named after it.
    assert table.get_json()["kind"] == "massage" and table.get_json()["disciplines"] == ["massage"]
    assert _kinds(app, "massage") == {"massage": "massage"}
    # A second room for massage and physiotherapy: massage's kind, which physiotherapy comes to hold too.
    both = client.post("/api/v1/rooms", json={"location_id": east["id"], "name": "Table 2",
                                              "disciplines": ["physiotherapy", "massage"]}, headers=admin).get_json()
    assert both["kind"] == "massage" and both["disciplines"] == ["massage", "physiotherapy"]
    listed = client.get(f"/api/v1/rooms?location_id={east['id']}", headers=auth("front_desk")).get_json()
    assert [(r["name"], r["disciplines"]) for r in listed] == [("Table 1", ["massage", "physiotherapy"]),
                                                                ("Table 2", ["massage", "physiotherapy"])]
    # Said with a kind, as before: the disciplines holding it are listed all the same.
    gym = client.post("/api/v1/rooms", json={"location_id": east["id"], "name": "Gym", "kind": "gym",
                                             "capacity": 4}, headers=admin).get_json()
    assert gym["disciplines"] == []


def test_disciplines_of_different_kinds_or_unknown_are_refused_and_nothing_changes(client, auth, app):
    admin = auth("admin")
    east = client.post("/api/v1/locations", json={"name": "East"}, headers=admin).get_json()
    client.post("/api/v1/rooms", json={"location_id": east["id"], "name": "Gym", "kind": "gym"}, headers=admin)
    with app.app_context():
        db.session.get(Discipline, "kinesiology").room_kind = "gym"
        db.session.get(Discipline, "massage").room_kind = "treatment-table"
        db.session.commit()
    mixed = client.post("/api/v1/rooms", json={"location_id": east["id"], "name": "Both",
                                               "disciplines": ["kinesiology", "massage", "chiropractic"]},
                        headers=admin)
    assert mixed.status_code == 422 and "disciplines" in mixed.get_json()["error"]["fields"]
    unknown = client.post("/api/v1/rooms", json={"location_id": east["id"], "name": "X",
                                                 "disciplines": ["massage", "astrology"]}, headers=admin)
    assert unknown.status_code == 422 and "disciplines[1]" in unknown.get_json()["error"]["fields"]
    neither = client.post("/api/v1/rooms", json={"location_id": east["id"], "name": "Y"}, headers=admin)
    assert neither.status_code == 422 and "kind" in neither.get_json()["error"]["fields"]
    assert _kinds(app, "chiropractic", "massage") == {"chiropractic": None, "massage": "treatment-table"}
    names = [r["name"] for r in client.get("/api/v1/rooms", headers=admin).get_json()]
    assert names == ["Gym"]
