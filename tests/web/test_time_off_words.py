"""Time off in people's words. Whole days are stored up to the next day's midnight, and the pages used to show
"Mon 28 Dec 00:00 to Sat 2 Jan 00:00", which reads as if the Saturday were off too."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from careplan.clinic import service as clinic
from careplan.providers.service import add_time_off
from tests import factories


def _at(day: date, hhmm: str = "00:00") -> datetime:
    return clinic.local_datetime(day, time.fromisoformat(hhmm))


def _spans(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", s) for s in re.findall(r'class="time-off__item[^"]*">\s*<span><strong>([^<]+)</strong>', page)]


def test_the_provider_page_says_which_days_are_off(client, app, auth):
    with app.app_context():
        year = datetime.now(clinic.zone()).year + 1
        monday = date(year, 3, 1) - timedelta(days=date(year, 3, 1).weekday())  # a Monday of next year's March
        provider = factories.provider(name="Hugo Bellamy", hours="mon-fri 08:00-16:00")
        pid = provider.id
        add_time_off(pid, {"starts_at": _at(monday), "ends_at": _at(monday + timedelta(days=5)), "reason": "Vacation"})
        add_time_off(pid, {"starts_at": _at(monday + timedelta(days=14)), "ends_at": _at(monday + timedelta(days=15))})
        add_time_off(pid, {"starts_at": _at(monday + timedelta(days=21), "13:00"),
                           "ends_at": _at(monday + timedelta(days=21), "16:00")})
        add_time_off(pid, {"starts_at": _at(monday + timedelta(days=28), "08:00"),
                           "ends_at": _at(monday + timedelta(days=30), "12:00")})
    page = client.get(f"/admin/providers/{pid}", headers=auth("admin")).text
    y = f" {year}"
    assert _spans(page) == [
        f"Mon {monday.day} {monday:%b}{y} to Fri {(monday + timedelta(days=4)).day} {monday + timedelta(days=4):%b}{y}, all day",
        f"Mon {(monday + timedelta(days=14)).day} {monday + timedelta(days=14):%b}{y}, all day",
        f"Mon {(monday + timedelta(days=21)).day} {monday + timedelta(days=21):%b}{y}, 13:00 to 16:00",
        f"Mon {(monday + timedelta(days=28)).day} {monday + timedelta(days=28):%b}{y} 08:00 to "
        f"Wed {(monday + timedelta(days=30)).day} {monday + timedelta(days=30):%b}{y} 12:00",
    ]
    assert "00:00" not in "".join(_spans(page))
    # The form says what "Back at" means for whole days.
    assert "00:00 on the day after the last one" in page
    assert "<h3>New time off</h3>" in page


def test_the_clinicians_week_and_the_re_plan_page_say_it_the_same_way(client, app, auth):
    with app.app_context():
        today = datetime.now(clinic.zone()).date()
        monday = today - timedelta(days=today.weekday())
        provider = factories.provider(name="Hugo Bellamy", hours="mon-fri 08:00-16:00")
        pid = provider.id
        away = add_time_off(pid, {"starts_at": _at(monday), "ends_at": _at(monday + timedelta(days=7)),
                                  "reason": "Course"}).time_off.id
    week = client.get("/me/week", headers=auth("provider", provider_id=pid)).text
    notice = re.sub(r"\s+", " ", week[week.index('class="notice"'):][:400])
    assert ", all day" in notice and "00:00" not in notice
    sunday = monday + timedelta(days=6)
    replan = client.get(f"/admin/providers/{pid}/time-off/{away}/replan", headers=auth("admin")).text
    assert re.search(rf"Mon {monday.day} {monday:%b}( \d{{4}})? to Sun {sunday.day} {sunday:%b}( \d{{4}})?, all day",
                     replan)


def test_the_calendars_needs_attention_says_the_absence_the_same_way(client, app, auth):
    with app.app_context():
        provider = factories.provider(name="Hugo Bellamy", hours="mon-sun 07:00-21:00")
        booked = factories.appointment(factories.patient(name="Noor Haddad", hours="mon-sun 07:00-21:00"), provider,
                                       days_ahead=3)
        day = clinic.to_local(booked.starts_at).date()
        add_time_off(provider.id, {"starts_at": _at(day), "ends_at": _at(day + timedelta(days=1)), "reason": "Sick"})
    page = client.get(f"/desk/calendar?date={day.isoformat()}", headers=auth("front_desk")).text
    item = re.sub(r"\s+", " ", page[page.index("Hugo Bellamy is away"):][:600])
    assert ", all day: Noor Haddad" in item and "00:00" not in item
