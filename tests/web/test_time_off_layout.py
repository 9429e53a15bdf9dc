"""The provider page's time off on a phone, in Chromium: each absence keeps room for its words, and its two
buttons go under it; at 390 px they squeezed "Mon 28 Dec to Fri 1 Jan 2027, all day" to a word a line."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from careplan.clinic import service as clinic
from careplan.providers.service import add_time_off
from tests import factories
from tests.web.conftest import PHONE, WIDE, screenshot, sign_in



def test_time_off_reads_on_a_phone(app, person, tab):
    with app.app_context():
        provider = factories.provider(name="Ana Moreau", hours="mon-fri 08:00-16:00")
        monday = clinic.today() - timedelta(days=clinic.today().weekday()) + timedelta(weeks=3)
        add_time_off(provider.id, {"starts_at": clinic.local_datetime(monday, time.min),
                                   "ends_at": clinic.local_datetime(monday + timedelta(days=5), time.min),
                                   "reason": "Vacation"})
        provider_id = provider.id
    page = tab(PHONE)
    sign_in(page, person("admin"))
    page.goto(f"/admin/providers/{provider_id}")
    words = page.locator(".time-off__item > span").first
    assert words.inner_text().startswith("Mon ")
    assert words.bounding_box()["width"] >= 190, words.bounding_box()
    screenshot(page, "time-off-phone")
