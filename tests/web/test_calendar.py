"""The clinic calendar's pages with Flask's test client: the day as a table, booking from a free cell,
the day's life (arrived, no-show, completed, cancel and backfill), moving with a preview, another time."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.conftest import at


def test_the_day_as_a_table_without_javascript(client, auth, clinic_day):
    desk = auth("front_desk")
    page = client.get(f"/desk/calendar?date={clinic_day.day.isoformat()}", headers=desk)
    assert page.status_code == 200
    html = page.text
    # One column per clinician working that day, in name order; blocks with patient, length, status, session.
    assert re.findall(r'class="cal-table__who"><a [^>]*>([^<]+)</a>', html) == [
        "Ana Moreau", "Hugo Bellamy", "Marc Tremblay"]
    assert "Martha Kowalski" in html and "45 min" in html and "Confirmed" in html
    assert "visit 1 (2 sessions)" in html and "cal-block--visit" in html
    assert 'data-feed="/api/v1/calendar/day?date=' in html
    assert '<a href="/desk/calendar">Calendar</a>' in html or 'href="/desk/calendar"' in html
