"""Places of a room for several (issue 20): any set of sessions that never puts more than `capacity` in the room
at once gets places, in whatever order it is booked, moved and cancelled; one more at a full instant is refused."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from careplan.errors import Conflict
from careplan.extensions import db
from careplan.scheduling.models import Appointment
from careplan.scheduling.service import Booking, insert_appointments, update_appointment
from tests import factories

TORONTO = ZoneInfo("America/Toronto")
DAY = datetime(2027, 3, 15, tzinfo=TORONTO)  # a Monday
CAPACITY = 3
PEOPLE = 8


def _most_at_once(intervals) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def _overlaps(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@pytest.mark.parametrize("seed", [8451, 8452, 8453])
def test_random_bookings_moves_and_cancellations_fill_a_room_exactly_to_its_capacity(app, seed):
    rng = random.Random(seed)
    with app.app_context():
        site = factories.location()
        room = factories.room(site.id, "gym", capacity=CAPACITY)
        factories.needs_room("massage", "gym")
        providers = [factories.provider(disciplines=("massage",), hours="mon 08:00-18:00").id for _ in range(PEOPLE)]
        patients = [factories.patient(hours="mon 08:00-18:00").id for _ in range(PEOPLE)]
        held: dict[int, tuple[int, int, datetime, datetime]] = {}  # appointment -> (provider, patient, start, end)
        booked = refused = 0

        def fits(provider, patient, start, end, moving=None) -> bool:
            others = [v for k, v in held.items() if k != moving]
            if any((v[0] == provider or v[1] == patient) and _overlaps(v[2:], (start, end)) for v in others):
                return False
            return _most_at_once([v[2:] for v in others] + [(start, end)]) <= CAPACITY

        for _ in range(60):
            start = DAY + timedelta(hours=8, minutes=15 * rng.randrange(0, 33))
            minutes = rng.choice((30, 45, 60, 90))
            end = start + timedelta(minutes=minutes)
            action = rng.random()
            if action < 0.15 and held:
                victim = rng.choice(sorted(held))
                update_appointment(victim, {"status": "cancelled", "reason": "test"}, caller=factories.CALLER)
                del held[victim]
                continue
            if action < 0.35 and held:
                mover = rng.choice(sorted(held))
                provider, patient, old_start, old_end = held[mover]
                end = start + (old_end - old_start)
                expected = fits(provider, patient, start, end, moving=mover)
                try:
                    update_appointment(mover, {"start": start}, caller=factories.CALLER)
                    held[mover] = (provider, patient, start, end)
                    assert expected, f"moved {mover} to {start} over capacity"
                except Conflict:
                    db.session.rollback()
                    assert not expected, f"refused to move {mover} to {start:%H:%M} although the room had a place"
                continue
            provider, patient = rng.choice(providers), rng.choice(patients)
            expected = fits(provider, patient, start, end)
            try:
                [row] = insert_appointments([Booking(patient, provider, "massage", start, minutes)],
                                           caller=factories.CALLER)
                held[row.id] = (provider, patient, start, end)
                booked += 1
                assert expected, f"booked {start:%H:%M}+{minutes} over capacity"
            except Conflict:
                db.session.rollback()
                refused += 1
                assert not expected, f"refused {start:%H:%M}+{minutes} although the room had a place then"
        rows = list(db.session.scalars(db.select(Appointment).where(Appointment.status != "cancelled")))
        assert {row.id for row in rows} == set(held)
        for a in rows:
            assert a.room_id == room.id and 1 <= a.room_unit <= CAPACITY
            for b in rows:
                assert a.id == b.id or a.room_unit != b.room_unit or not _overlaps(
                    (a.starts_at, a.ends_at), (b.starts_at, b.ends_at))
        # The sequence did fill the room: some bookings were refused for it, most were not.
        assert booked > 20 and refused > 0
