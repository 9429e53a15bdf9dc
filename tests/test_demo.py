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
