"""Booking a session that holds a room: a free place of a room of its kind where its provider works, never
more sessions in a room than its capacity; video sessions hold none."""
import pytest

from careplan.extensions import db
from careplan.scheduling.models import Appointment
from tests import factories

MONDAY = "2027-03-15"


@pytest.fixture
def clinic(app):
    """Two massage therapists at East (Monday) and West (Tuesday); East has one table, West a room for two."""
    with app.app_context():
        east, west = factories.location("East"), factories.location("West")
        table = factories.room(east.id, name="Table 1")
        pair = factories.room(west.id, capacity=2, name="Double")
        factories.needs_room("massage")
        hours = [{**factories.windows("mon 08:00-16:00")[0], "location_id": east.id},
                 {**factories.windows("tue 08:00-16:00")[0], "location_id": west.id}]
        therapists = [factories.provider(disciplines=("massage",), hours=None, availability=hours).id for _ in range(3)]
        patients = [factories.patient(hours="mon-fri 08:00-17:00").id for _ in range(4)]
        return {"east": east.id, "west": west.id, "table": table.id, "pair": pair.id, "mt": therapists,
                "patients": patients}


def body(clinic, n, start=f"{MONDAY}T09:00:00-04:00", **extra):
    return {"patient_id": clinic["patients"][n], "provider_id": clinic["mt"][n], "discipline": "massage",
            "start": start, "minutes": 60, **extra}


def test_a_session_takes_the_table_where_its_provider_works(client, auth, clinic):
    answer = client.post("/api/v1/appointments", json=body(clinic, 0), headers=auth("front_desk"))
    assert answer.status_code == 201, answer.get_json()
    data = answer.get_json()
    assert (data["location_id"], data["room_id"], data["virtual"]) == (clinic["east"], clinic["table"], False)
    # The only table is held: another therapist cannot give a massage then, nor half an hour later.
    for start in (f"{MONDAY}T09:00:00-04:00", f"{MONDAY}T09:30:00-04:00"):
        refused = client.post("/api/v1/appointments", json=body(clinic, 1, start), headers=auth("front_desk"))
        assert refused.status_code == 409, refused.get_json()
        assert "every treatment-table room there is taken" in refused.get_json()["error"]["fields"]["room_id"]
    after = client.post("/api/v1/appointments", json=body(clinic, 1, f"{MONDAY}T10:00:00-04:00"),
                        headers=auth("front_desk"))
    assert after.status_code == 201


def test_a_room_for_two_takes_two_sessions_at_once_not_three(client, auth, clinic):
    tuesday = "2027-03-16T09:00:00-04:00"
    places = []
    for n in range(2):
        answer = client.post("/api/v1/appointments", json=body(clinic, n, tuesday), headers=auth("front_desk"))
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["room_id"] == clinic["pair"]
        places.append(answer.get_json()["id"])
    third = client.post("/api/v1/appointments", json=body(clinic, 2, tuesday), headers=auth("front_desk"))
    assert third.status_code == 409
    # Cancelling one frees its place.
    client.patch(f"/api/v1/appointments/{places[0]}", json={"status": "cancelled", "reason": "ill"},
                 headers=auth("front_desk"))
    again = client.post("/api/v1/appointments", json=body(clinic, 2, tuesday), headers=auth("front_desk"))
    assert again.status_code == 201, again.get_json()


def test_a_named_room_or_location_must_fit(client, auth, clinic):
    desk = auth("front_desk")
    wrong_place = client.post("/api/v1/appointments", json=body(clinic, 0, location_id=clinic["west"]), headers=desk)
    assert wrong_place.status_code == 422
    assert "works at location" in wrong_place.get_json()["error"]["fields"]["location_id"]
    wrong_room = client.post("/api/v1/appointments", json=body(clinic, 0, room_id=clinic["pair"]), headers=desk)
    assert wrong_room.status_code == 422 and "room_id" in wrong_room.get_json()["error"]["fields"]


def test_a_video_session_holds_no_room_and_needs_the_patients_consent(client, auth, clinic, app):
    desk = auth("front_desk")
    link = "https://video.example.org/room/42"
    refused = client.post("/api/v1/appointments", json=body(clinic, 0, virtual=True, video_link=link), headers=desk)
    assert refused.status_code == 422
    assert "does not accept video" in refused.get_json()["error"]["fields"]["virtual"]
    client.patch(f"/api/v1/patients/{clinic['patients'][0]}", json={"accepts_virtual": True},
                 headers=auth("admin"))
    client.post("/api/v1/appointments", json=body(clinic, 1), headers=desk)  # the table is taken
    video = client.post("/api/v1/appointments", json=body(clinic, 0, virtual=True, video_link=link), headers=desk)
    assert video.status_code == 201, video.get_json()
    data = video.get_json()
    assert (data["virtual"], data["room_id"], data["location_id"], data["video_link"]) == (True, None, None, link)
    no_video = client.post("/api/v1/appointments", json=body(clinic, 2, video_link=link), headers=desk)
    assert no_video.status_code == 422 and "video_link" in no_video.get_json()["error"]["fields"]


def test_a_move_keeps_its_room_when_free_and_is_refused_when_every_room_is_full(client, auth, clinic, app):
    desk = auth("front_desk")
    first = client.post("/api/v1/appointments", json=body(clinic, 0), headers=desk).get_json()
    second = client.post("/api/v1/appointments", json=body(clinic, 1, f"{MONDAY}T11:00:00-04:00"),
                         headers=desk).get_json()
    moved = client.patch(f"/api/v1/appointments/{first['id']}", json={"start": f"{MONDAY}T13:00:00-04:00"},
                         headers=desk)
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["room_id"] == clinic["table"]
    clash = client.patch(f"/api/v1/appointments/{first['id']}", json={"start": f"{MONDAY}T11:30:00-04:00"},
                         headers=desk)
    assert clash.status_code == 409, clash.get_json()
    with app.app_context():
        kept = db.session.get(Appointment, first["id"])
        assert (kept.room_id, kept.starts_at.hour) == (clinic["table"], 17)  # 13:00 in Toronto, unchanged
        assert db.session.get(Appointment, second["id"]).room_unit == 1


def test_places_are_given_anew_when_fragmented_so_a_session_within_capacity_always_fits(client, auth, clinic, app):
    """The double room, Tuesday: 9:00-10:00 takes place 1, 9:30-11:00 place 2, 11:30-12:30 place 1 again (free
    then). 10:30-12:00 meets place 2 until 11:00 and place 1 from 11:30, so no place is free over its whole
    length, yet never more than two sessions are in the room at once: the booking must get in (the earlier
    allocation, lowest free place, refused it)."""
    desk = auth("front_desk")
    day = "2027-03-16"

    def book(n, at, minutes):
        answer = client.post("/api/v1/appointments", json={**body(clinic, n, f"{day}T{at}:00-04:00"),
                                                           "minutes": minutes}, headers=desk)
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["room_id"] == clinic["pair"]
        return answer.get_json()["id"]

    first, second, last = book(0, "09:00", 60), book(1, "09:30", 90), book(0, "11:30", 60)
    with app.app_context():
        assert [db.session.get(Appointment, i).room_unit for i in (first, second, last)] == [1, 2, 1]
    middle = book(2, "10:30", 90)
    with app.app_context():
        units = {i: db.session.get(Appointment, i).room_unit for i in (first, second, last, middle)}
    # In order of start each keeps its place where free: the 11:30 session gave place 1 to the 10:30 one.
    assert units == {first: 1, second: 2, middle: 1, last: 2}
    # The room is now full from 10:30 to 11:00 and from 11:30 to 12:00: a third session there is refused.
    third = {**body(clinic, 1, f"{day}T11:30:00-04:00"), "patient_id": clinic["patients"][3], "minutes": 30}
    refused = client.post("/api/v1/appointments", json=third, headers=desk)
    assert refused.status_code == 409 and "taken" in refused.get_json()["error"]["fields"]["room_id"]


def test_a_move_into_a_fragmented_room_takes_a_place_and_lets_go_of_its_old_one(client, auth, clinic, app):
    """The same fragmentation, reached by moving the 10:30 session from 13:00: its own place at 13:00 is
    nobody's business at 10:30, and the neighbours it re-places never meet it on the way."""
    desk = auth("front_desk")
    day = "2027-03-16"
    ids = []
    for n, at, minutes in ((0, "09:00", 60), (1, "09:30", 90), (0, "11:30", 60), (2, "11:45", 90)):
        answer = client.post("/api/v1/appointments", json={**body(clinic, n, f"{day}T{at}:00-04:00"),
                                                           "minutes": minutes}, headers=desk)
        assert answer.status_code == 201, answer.get_json()
        ids.append(answer.get_json()["id"])
    # 11:45-13:15 meets the 11:30 session (place 1) and takes place 2; it moves to 10:30-12:00.
    moved = client.patch(f"/api/v1/appointments/{ids[3]}", json={"start": f"{day}T10:30:00-04:00"}, headers=desk)
    assert moved.status_code == 200, moved.get_json()
    with app.app_context():
        rows = [db.session.get(Appointment, i) for i in ids]
        assert [row.room_unit for row in rows] == [1, 2, 2, 1]
        for a in rows:
            for b in rows:
                assert a is b or a.room_unit != b.room_unit or a.ends_at <= b.starts_at or b.ends_at <= a.starts_at
