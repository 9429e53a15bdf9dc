"""The demo clinic is built around the clinic's own date."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select

import careplan.db
from careplan.clinic import service as clinic
from careplan.demo import load_demo
from careplan.extensions import db
from careplan.scheduling.models import Appointment


def test_todays_visits_are_on_the_clinics_date_not_the_machines(ctx, monkeypatch):
    """Found in use at 22:45 in Toronto: the server's UTC date was already the next day, the day's single visits
    were seeded there, and the desk's Today opened empty."""
    evening = datetime(2027, 3, 2, 3, 45, tzinfo=timezone.utc)  # Monday 1 March, 22:45 in Toronto
    # The clinic's clock only (`clinic.today` reads it): the rest of the demo keeps the real one.
    monkeypatch.setattr(careplan.db, "utcnow", lambda: evening)
    load_demo()
    assert clinic.today() == date(2027, 3, 1)
    singles = db.session.scalars(select(Appointment).where(Appointment.plan_id.is_(None))).all()
    assert singles and {clinic.to_local(a.starts_at).date() for a in singles} >= {date(2027, 3, 1)}


def test_an_either_way_session_of_the_demo_is_booked_by_video_with_its_link(ctx):
    """Found walking the demo: its session lines 'either way' (video if the patient accepts) were all booked in
    person, so no one saw what the optimizer's video choice looks like. Linh's nutrition session, a Saturday trip
    of its own in person, is by video, with a link for her page and her reminders."""
    from careplan.plans.models import CarePlan, SessionLine

    load_demo()
    chosen = db.session.scalars(
        select(Appointment).join(CarePlan, CarePlan.id == Appointment.plan_id)
        .where(Appointment.virtual.is_(True))).all()
    assert chosen, "no plan session of the demo is by video"
    either = {(line.phase.plan_id, line.discipline_code)
              for line in db.session.scalars(select(SessionLine).where(SessionLine.mode == "either"))}
    assert all((a.plan_id, a.discipline_code) in either for a in chosen)
    assert all(a.video_link.startswith("https://") and a.room_id is None and a.location_id is None for a in chosen)
