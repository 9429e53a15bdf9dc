"""No room ever holds more sessions than its capacity, through real HTTP under concurrency, on the backend this
run uses (gunicorn workers on PostgreSQL: only the exclusion constraint can keep them apart)."""
from __future__ import annotations

from careplan.extensions import db
from careplan.scheduling.models import Appointment
from tests import factories
from tests.conftest import ON_POSTGRES
from tests.scheduling.test_concurrency import REQUESTS, _next_monday, _post_all, live_server  # noqa: F401


def _room_clinic(app, capacity: int):
    """REQUESTS massage therapists and patients, all free, and one room of `capacity` for massage."""
    with app.app_context():
        site = factories.location()
        room = factories.room(site.id, capacity=capacity)
        factories.needs_room("massage")
        providers = [factories.provider(disciplines=("massage",), hours="mon-fri 08:00-16:00").id
                     for _ in range(REQUESTS)]
        patients = [factories.patient().id for _ in range(REQUESTS)]
        return room.id, providers, patients, factories.bearer(factories.user("front_desk"))


def _bodies(providers, patients) -> list[dict]:
    monday = _next_monday().isoformat()
    # Each request is another therapist with another patient: only the room can refuse them.
    return [{"patient_id": patients[i], "provider_id": providers[i], "discipline": "massage",
             "start": f"{monday}T09:{15 * (i % 4):02d}:00-05:00", "minutes": 60} for i in range(REQUESTS)]


def _held(app, room_id: int) -> list[Appointment]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(Appointment).where(Appointment.room_id == room_id)))
        db.session.remove()
        return rows


def test_twenty_concurrent_bookings_of_a_one_table_room_give_exactly_one(app, live_server):  # noqa: F811
    url, server = live_server
    assert server == ("gunicorn" if ON_POSTGRES else "threaded")
    room_id, providers, patients, headers = _room_clinic(app, 1)

    answers = _post_all(url, _bodies(providers, patients), [headers] * REQUESTS)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (REQUESTS - 1), answers
    assert all(answer["error"]["code"] == "conflict" for status, answer in answers if status == 409)
    booked = next(answer for status, answer in answers if status == 201)
    assert booked["room_id"] == room_id
    assert [row.id for row in _held(app, room_id)] == [booked["id"]]


def test_a_room_for_three_never_holds_four(app, live_server):  # noqa: F811
    url, _server = live_server
    room_id, providers, patients, headers = _room_clinic(app, 3)

    answers = _post_all(url, _bodies(providers, patients), [headers] * REQUESTS)

    booked = [answer for status, answer in answers if status == 201]
    # Each booking locks the room's row before reading its places (SQLite serialises the writers anyway), so
    # the requests queue instead of racing for the same place: all three places fill, on both backends.
    assert len(booked) == 3, answers
    assert {status for status, _ in answers} == {201, 409}
    rows = _held(app, room_id)
    assert len(rows) == len(booked)
    assert {row.room_unit for row in rows} == {1, 2, 3}


def test_concurrent_bookings_into_a_fragmented_room_give_exactly_the_one_it_has_room_for(app, live_server):  # noqa: F811
    """A room for two holds 09:00-10:00 and 11:30-12:30 on place 1 and 09:30-11:00 on place 2: no place is free
    over 10:30-12:00, yet the room has room for one session then (never more than two at once). Twenty
    concurrent requests for it give exactly one, which re-places its neighbours."""
    url, _server = live_server
    room_id, providers, patients, headers = _room_clinic(app, 2)
    monday = _next_monday().isoformat()
    first = [{"patient_id": patients[0], "provider_id": providers[0], "start": "09:00", "minutes": 60},
             {"patient_id": patients[1], "provider_id": providers[1], "start": "09:30", "minutes": 90},
             {"patient_id": patients[0], "provider_id": providers[0], "start": "11:30", "minutes": 60}]
    for fields in first:
        answers = _post_all(url, [{**fields, "discipline": "massage", "start": f"{monday}T{fields['start']}:00-05:00"}],
                            [headers])
        assert answers[0][0] == 201, answers
    bodies = [{"patient_id": patients[i], "provider_id": providers[i], "discipline": "massage",
               "start": f"{monday}T10:30:00-05:00", "minutes": 90} for i in range(2, REQUESTS)]

    answers = _post_all(url, bodies, [headers] * len(bodies))

    assert sorted(status for status, _ in answers) == [201] + [409] * (len(bodies) - 1), answers
    rows = sorted(_held(app, room_id), key=lambda row: row.starts_at)
    assert [(row.starts_at.minute, row.room_unit) for row in rows] == [(0, 1), (30, 2), (30, 1), (30, 2)]
