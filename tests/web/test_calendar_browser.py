"""A front desk's morning on the clinic calendar in Chromium: book by clicking a free cell, drag an
appointment to another clinician, check a patient in, mark a no-show, cancel with a reason and fill the slot
from the backfill offer, see an appointment flagged after a clinician's time off is recorded; then the same
day as a list on a phone. Screenshots of each step under
tests/artifacts/calendar-*.png."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.conftest import LAPTOP, PHONE, WIDE, check_page_basics, draft_plan, screenshot, sign_in
from tests.web.test_content_security import REPORT_VIOLATIONS



def _morning(app, monkeypatch):
    """Now in the clinic, rounded up to the hour: Martha at +1 h with Ana, James at +2 h with Ana (he comes
    early), Noah was due 15 minutes ago with Marc, and Linh's plan still misses physiotherapy this week.

    The clinic is put in a time zone where it is about 09:00 now: the morning is built on the real clock
    (arrivals and no-shows are of today only) and takes three hours, so in the evening it ran past midnight,
    James on the next day's grid."""
    factories.clinic_morning(app, monkeypatch)
    with app.app_context():
        assert clinic.timezone_name() == app.config["CLINIC_TIMEZONE"]
        now = datetime.now(clinic.zone()).replace(second=0, microsecond=0)
        base = now.replace(minute=0) + timedelta(hours=1)
        # Working hours around the morning's appointments (a short grid), inside the day.
        first = max(now - timedelta(hours=1), now.replace(hour=0, minute=0)).strftime("%H:00")
        last = min(base + timedelta(hours=4), now.replace(hour=23, minute=45)).strftime("%H:%M")
        hours = f"mon-sun {first}-{last}"
        ana = factories.provider(name="Ana Moreau", hours=hours).id
        ben = factories.provider(name="Ben Okafor", hours=hours).id
        marc = factories.provider(name="Marc Tremblay", disciplines=("massage",), hours=hours).id
        martha = factories.patient(name="Martha Kowalski", hours=hours).id
        james = factories.patient(name="James O'Neill", hours=hours).id
        noah = factories.patient(name="Noah Smith", hours=hours).id
        linh = factories.patient(name="Linh Tran", hours=hours).id
        draft_plan(linh, {"physiotherapy": ana, "massage": marc}, base.date() - timedelta(days=7), status="booked")
        ids = {
            "martha": factories.appointment(martha, ana, base).id,
            "james": factories.appointment(james, ana, base + timedelta(hours=2)).id,
            "noah": factories.appointment(noah, marc, now - timedelta(minutes=15), discipline="massage").id,
        }
        return base, {"ana": ana, "ben": ben, "marc": marc}, ids


def _column_point(page, index: int, at: datetime) -> tuple[float, float]:
    """Where the grid shows clinician `index` at `at` (the middle of that slot), scrolled into view."""
    widget = page.locator("#clinic-calendar")
    opens, closes = widget.get_attribute("data-opens"), widget.get_attribute("data-closes")
    slot = int(widget.get_attribute("data-slot-minutes"))
    day = page.locator(".ec-body .ec-day").nth(index)
    first = datetime.combine(at.date(), datetime.strptime(opens, "%H:%M").time())
    end = datetime.combine(at.date(), datetime.strptime(closes, "%H:%M").time()) if closes != "00:00" else \
        first.replace(hour=0) + timedelta(days=1)
    slots = (end - first).total_seconds() / 60 / slot
    offset = (at.replace(tzinfo=None) - first).total_seconds() / 60 / slot
    box = day.bounding_box()
    page.mouse.wheel(0, box["y"] + (offset + 0.5) * box["height"] / slots - 400)
    page.wait_for_timeout(100)
    box = day.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + (offset + 0.5) * box["height"] / slots


def _red_flag(app, appointment_id: int) -> None:
    """The appointment's patient screened positive for fever at a new intake; no clinician has judged it yet."""
    from careplan.errors import ServiceError
    from careplan.intake.models import RED_FLAGS
    from careplan.intake.service import record_intake

    with app.app_context():
        patient_id = db.session.get(Appointment, appointment_id).patient_id
        try:
            record_intake(patient_id, {"condition": "radiculopathy", "region": "lumbar", "side": "left",
                                       "symptoms": ["low back pain"], "severity": "moderate",
                                       "pain_stress_or_insomnia": False, "prefers_acupuncture": False,
                                       "preferences": "", "referral_signs": {},
                                       "red_flags": {**{name: False for name in RED_FLAGS}, "fever": True}},
                          caller=factories.CALLER)
        except ServiceError:
            pass  # recorded, and refused: what a red flag does


def test_a_front_desks_morning(app, browser, live_server, person, monkeypatch):
    base, providers, ids = _morning(app, monkeypatch)
    _red_flag(app, ids["noah"])
    desk = person("front_desk")
    context = browser.new_context(base_url=live_server, viewport=WIDE, locale="en-CA")
    context.set_default_timeout(10000)
    context.add_init_script(REPORT_VIOLATIONS)
    problems: list[str] = []
    page = context.new_page()
    # CSP violations and script errors; a refused form's 422 is the page doing its job.
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and (
        "Content Security Policy" in m.text or "CSP violation" in m.text) else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, desk)
    try:
        # The desk's home is the calendar.
        expect(page).to_have_url(f"{live_server}/desk/calendar")
        page.goto(f"/desk/calendar?date={base.date().isoformat()}")
        expect(page.locator(".ec-event.cal-block")).to_have_count(3)
        # Noah's red flag waits for a clinician: his block says so.
        expect(page.locator(".ec-event.cal-block--red-flag")).to_have_count(1)
        expect(page.locator(".ec-event.cal-block--red-flag .cal-block__red-flag")).to_contain_text("Red flag")
        expect(page.locator(".ec-event.cal-block--red-flag")).to_contain_text("Noah Smith")
        check_page_basics(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDE["width"]
        screenshot(page, "calendar-1-day")

        # Book by clicking Ben's free cell at Martha's hour + 30 min: the form has Ben and the time filled in.
        x, y = _column_point(page, 1, base + timedelta(minutes=30))
        page.mouse.click(x, y)
        page.wait_for_url("**/desk/appointments/new**")
        expect(page.locator("#provider_id")).to_have_value(str(providers["ben"]))
        expect(page.locator("#start")).to_have_value((base + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Find the patient").fill("kowalsky")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_label("Martha Kowalski")).to_be_checked()
        page.get_by_role("button", name="Choose this patient").click()
        # Martha is with Ana until +45 min: the conflict shows in the form.
        page.get_by_role("button", name="Book").click()
        expect(page.locator(".error-summary")).to_contain_text("the patient is busy then")
        screenshot(page, "calendar-2-booking-conflict")
        page.locator("#start").fill((base + timedelta(minutes=60)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Book").click()
        expect(page.locator(".flash--success")).to_contain_text("Booked Martha Kowalski with Ben Okafor")
        expect(page.locator(".ec-event.cal-block")).to_have_count(4)
        screenshot(page, "calendar-3-booked")

        # Drag James from Ana to Ben at the same time: a preview, then the move.
        james = page.locator(".ec-event.cal-block", has_text="James O'Neill")
        x, y = _column_point(page, 1, base + timedelta(hours=2))
        start = james.bounding_box()
        page.mouse.move(start["x"] + 10, start["y"] + 5)
        page.mouse.down()
        page.mouse.move(x, y, steps=12)
        page.mouse.up()
        page.wait_for_url("**/moving**")
        expect(page.locator(".move-preview")).to_contain_text("Ben Okafor")
        screenshot(page, "calendar-4-move-preview")
        with app.app_context():
            assert db.session.get(Appointment, ids["james"]).provider_id == providers["ana"]
        page.get_by_role("button", name="Move it").click()
        expect(page.locator(".flash--success")).to_contain_text("Moved James O'Neill")
        with app.app_context():
            moved = db.session.get(Appointment, ids["james"])
            assert moved.provider_id == providers["ben"]

        # Check James in, from his block.
        page.locator(".ec-event.cal-block", has_text="James O'Neill").click()
        page.get_by_role("button", name="Arrived").click()
        expect(page.locator(".flash--success")).to_contain_text("James O'Neill has arrived.")
        screenshot(page, "calendar-5-checked-in")

        # Noah did not come.
        page.goto(f"/desk/appointments/{ids['noah']}")
        page.get_by_role("button", name="No-show").click()
        expect(page.locator(".flash--success")).to_contain_text("Noah Smith: marked a no-show")

        # Martha cancels her session with Ana; the freed slot goes to Linh from the backfill offer.
        page.goto(f"/desk/appointments/{ids['martha']}")
        page.get_by_label("Why it is cancelled").fill("Called in sick")
        page.get_by_role("button", name="Cancel and offer the slot").click()
        expect(page.locator(".candidate")).to_contain_text("Linh Tran")
        screenshot(page, "calendar-6-backfill")
        page.get_by_role("button", name="Book Linh Tran").click()
        expect(page.locator(".flash--success")).to_contain_text("Booked Linh Tran into the freed slot")
        page.goto(f"/desk/calendar?date={base.date().isoformat()}")
        expect(page.locator(".ec-event.cal-block", has_text="Linh Tran")).to_have_count(1)
        screenshot(page, "calendar-7-after")
        with app.app_context():
            rows = {a.id: a for a in db.session.scalars(select(Appointment))}
            assert rows[ids["martha"]].status == "cancelled" and rows[ids["martha"]].cancel_reason == "Called in sick"
            assert rows[ids["noah"]].status == "no_show" and rows[ids["james"]].arrived_at is not None

        # Ben goes home sick before Martha's session with him: recorded on his page, the calendar flags it.
        page.goto(f"/admin/providers/{providers['ben']}")
        page.get_by_label("Away from").fill((base + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Back at").fill((base + timedelta(minutes=100)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Reason").fill("Off sick")
        page.get_by_role("button", name="Record time off").click()
        expect(page.locator(".flash--warning")).to_contain_text("1 booked appointment is inside it")
        page.goto(f"/desk/calendar?date={base.date().isoformat()}")
        flagged = page.locator(".ec-event.cal-block--flagged")
        expect(flagged).to_have_count(1)
        expect(flagged).to_contain_text("Martha Kowalski")
        expect(flagged.locator(".cal-block__flag")).to_contain_text("Needs a new time")
        expect(flagged.locator(".cal-block__flag")).to_have_attribute("title", re.compile("inside Ben Okafor's time off"))
        item = page.locator(".attention__item--flagged")
        expect(item).to_contain_text("Ben Okafor is away (Off sick): 1 appointment needs a new time")
        expect(item).to_contain_text("Martha Kowalski")
        flagged.scroll_into_view_if_needed()
        screenshot(page, "calendar-7b-flagged")
        # Its one next step: the absence's re-plan, which lists Martha's session.
        item.get_by_role("link", name="Re-plan around the absence").click()
        expect(page.locator("h1")).to_contain_text("Ben Okafor is away")
        expect(page.locator("main")).to_contain_text("Martha Kowalski")
        # Her appointment's page says why it needs a new time.
        page.goto(f"/desk/calendar?date={base.date().isoformat()}")
        page.locator(".ec-event.cal-block--flagged").click()
        expect(page.locator(".notice--flag")).to_contain_text("inside Ben Okafor's time off")
        page.goto(f"/desk/calendar?date={base.date().isoformat()}")

        # A phone: the day as a list per clinician, nothing scrolls sideways.
        page.set_viewport_size(PHONE)
        page.reload()
        expect(page.locator(".cal-day-list")).to_be_visible()
        expect(page.locator("#clinic-calendar")).to_be_hidden()
        expect(page.locator(".cal-list__who")).to_have_text(["Ana Moreau", "Ben Okafor", "Marc Tremblay"])
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "calendar-8-phone")
        assert problems == []
    finally:
        context.close()


def test_without_javascript_the_day_is_a_table(app, person, tab, monkeypatch):
    base, providers, ids = _morning(app, monkeypatch)
    page = tab(WIDE, timeout=30000, java_script_enabled=False)
    sign_in(page, person("front_desk"))
    page.goto(f"/desk/calendar?date={base.date().isoformat()}")
    expect(page.locator(".cal-table")).to_be_visible()
    expect(page.locator(".cal-table .cal-block")).to_have_count(3)
    screenshot(page, "calendar-no-js")


def test_a_clinicians_week_runs_monday_to_sunday_like_its_feed(app, person, tab, monkeypatch):
    base, providers, ids = _morning(app, monkeypatch)
    page = tab(WIDE)
    sign_in(page, person("front_desk"))
    page.goto(f"/desk/calendar?provider={providers['ana']}&date={base.date().isoformat()}")
    heads = page.locator(".ec-col-head")
    expect(heads).to_have_count(7)
    monday = base.date() - timedelta(days=base.weekday())
    # As the clinic writes dates everywhere else: "Mon 7 Dec" (it was "Mon, Dec 7").
    expect(heads.first).to_contain_text(f"Mon {monday.day} {monday:%b}")
    expect(heads.last).to_contain_text("Sun")
    # Ana's two appointments of the morning are in it (on whatever day of the week that is).
    expect(page.locator(".ec-event.cal-block")).to_have_count(2)
    screenshot(page, "calendar-week")


# Every block's lines lie wholly inside it (a cut-off line is the defect); the first hour of the time axis is
# labelled, centred on its grid line as the second is on its own (it sat half a slot under it), and not painted
# over by the header.
BLOCK_LINES = """() => [...document.querySelectorAll('.ec-event.cal-block')].map(block => {
  const edge = block.getBoundingClientRect().bottom;
  const shown = [...block.querySelectorAll('.ec-event-body > *')].filter(l => !l.classList.contains('cal-line--cut'));
  return {name: block.querySelector('.cal-block__who').textContent, height: Math.round(block.offsetHeight),
          lines: shown.length, spill: Math.max(0, ...shown.map(l => l.getBoundingClientRect().bottom - edge)),
          title: block.title};
})"""
FIRST_LABEL = """() => { const top = document.querySelector('.ec-body .ec-day').getBoundingClientRect().top;
  const [first, second] = document.querySelectorAll('.ec-body .ec-sidebar .ec-slot');
  const row = first.getBoundingClientRect().height;
  const off = (slot, line) => { const t = slot.querySelector('time').getBoundingClientRect();
    return Math.abs(t.top + t.height / 2 - line); };
  const t = first.querySelector('time').getBoundingClientRect();
  const seen = document.elementFromPoint(t.right - 3, t.top + t.height / 2);
  return {text: first.textContent, visible: getComputedStyle(first).visibility === 'visible',
          centred: off(first, top) <= 1.5 && off(second, top + row) <= 1.5,
          on_top: !!seen && first.contains(seen)}; }"""


def test_short_blocks_show_whole_lines_and_the_first_hour_is_labelled(app, person, tab):
    """Many clinicians (narrow columns) and sessions of 15 to 60 minutes: no block shows half a line; what a
    short block leaves out is in its tooltip; the grid's opening hour (07:00) has its label."""
    from datetime import time

    with app.app_context():
        day = clinic.today() + timedelta(days=1)
        lengths = (15, 30, 45, 60)
        for index in range(10):
            clinician = factories.provider(name=f"Clinician {index:02}", hours="mon-sun 07:00-12:00")
            patient = factories.patient(name=f"Patient with a longer name {index:02}", hours="mon-sun 07:00-12:00")
            factories.appointment(patient, clinician, clinic.local_datetime(day, time(8 + index % 3, 0)),
                                  minutes=lengths[index % len(lengths)])
    page = tab(WIDE)
    sign_in(page, person("front_desk"))
    page.goto(f"/desk/calendar?date={day.isoformat()}")
    expect(page.locator(".ec-event.cal-block")).to_have_count(10)
    page.wait_for_timeout(200)  # the blocks are fitted once mounted
    blocks = page.evaluate(BLOCK_LINES)
    assert [b for b in blocks if b["spill"] > 0.5] == []
    # A 45-minute block still says when and what state; the 15-minute one at least who.
    assert all(b["lines"] >= 2 for b in blocks if b["height"] >= 70)
    assert all(b["lines"] >= 1 and "min" in b["title"] for b in blocks)
    assert page.evaluate(FIRST_LABEL) == {"text": "07:00", "visible": True, "centred": True, "on_top": True}
    screenshot(page, "calendar-short-blocks")


# Each line a block shows: its text, whether it lies inside the block (right and bottom), and whether it is cut
# at the block's edge without an ellipsis to say so.
SHOWN_LINES = """(block) => { const box = block.getBoundingClientRect();
  const bottom = box.bottom - parseFloat(getComputedStyle(block).paddingBottom);
  return [...block.querySelectorAll('.ec-event-body > *')].filter(l => !l.classList.contains('cal-line--cut'))
    .map(l => { const r = l.getBoundingClientRect();
      return {text: l.textContent, inside: r.bottom <= bottom + 0.5 && r.right <= box.right + 0.5,
              cut_silently: l.scrollWidth > l.clientWidth + 1 && getComputedStyle(l).textOverflow !== 'ellipsis'}; }); }"""


def test_a_50_minute_block_in_a_narrow_column_reads_who_when_and_what(app, person, tab):
    """Eleven clinicians on a laptop (columns about 100 px): a 50-minute session wrapped its name on two lines
    and cut its time mid-phrase ("50 min ·..."), and the block never said its discipline. Now: the patient, the
    time and the discipline each on a line of their own, ending on an ellipsis where they are too long, inside
    the block; the whole of it, with the clinician, in the tooltip."""
    from datetime import time

    with app.app_context():
        day = clinic.today() + timedelta(days=1)
        for index in range(10):
            factories.provider(name=f"Clinician {index:02}", hours="mon-sun 07:00-20:00")
        elena = factories.provider(name="Elena Petrova", disciplines=("psychotherapy",), hours="mon-sun 07:00-20:00")
        james = factories.patient(name="James O'Neill", hours="mon-sun 07:00-20:00")
        factories.appointment(james, elena, clinic.local_datetime(day, time(17, 0)), minutes=50,
                              discipline="psychotherapy")
    page = tab(LAPTOP)
    sign_in(page, person("front_desk"))
    page.goto(f"/desk/calendar?date={day.isoformat()}")
    block = page.locator(".ec-event.cal-block")
    expect(block).to_have_count(1)
    page.wait_for_timeout(200)  # fitted once mounted
    assert block.bounding_box()["width"] < 130
    lines = block.evaluate(SHOWN_LINES)
    assert [line for line in lines if not line["inside"] or line["cut_silently"]] == []
    texts = [line["text"] for line in lines]
    assert texts[0] == "James O'Neill" and texts[1].startswith("17:00–17:50")
    assert any(text.startswith("Psychotherapy") for text in texts[2:])
    title = block.get_attribute("title")
    for words in ("James O'Neill", "50 min", "Psychotherapy", "single visit", "Elena Petrova"):
        assert words in title
    screenshot(page, "calendar-50-minutes")


def test_the_component_speaks_the_pages_language(app, person, monkeypatch, tab):
    """With the staff's pages in French, what calendar.js writes into the blocks (status, length, red flag,
    visit) and the component's day names are French too: they used to stay English on a French page."""
    from careplan import i18n

    base, providers, ids = _morning(app, monkeypatch)
    _red_flag(app, ids["martha"])
    page = tab(WIDE)
    sign_in(page, person("front_desk"))
    monkeypatch.setattr(i18n, "STAFF_LANGUAGE", "fr")
    page.goto(f"/desk/calendar?date={base.date().isoformat()}")
    martha = page.locator(".ec-event.cal-block", has_text="Martha Kowalski")
    expect(martha).to_contain_text("Réservé")
    expect(martha).to_contain_text("Signal d'alarme")
    expect(martha).to_contain_text("visite unique")
    assert "Booked" not in martha.inner_text() and "Red flag" not in martha.inner_text()
    page.goto(f"/desk/calendar?provider={providers['ana']}&date={base.date().isoformat()}")
    heads = page.locator(".ec-col-head")
    expect(heads).to_have_count(7)
    expect(heads.first).to_contain_text("lun.")
    expect(heads.last).to_contain_text("dim.")
    screenshot(page, "calendar-week-fr")


def test_a_video_session_says_so_in_the_component_as_in_the_table(app, person, tab, monkeypatch):
    """Found in use: a single video visit read "Physiotherapy · single visit" on the desk's calendar, like any
    visit in person (the table said "by video"; the component's feed did not carry it)."""
    base, providers, ids = _morning(app, monkeypatch)
    with app.app_context():
        karen = factories.patient(name="Karen Lee", accepts_virtual=True)
        factories.appointment(karen, providers["ben"], base + timedelta(hours=1), virtual=True,
                              video_link="https://meet.example/karen")
    page = tab(WIDE, timeout=30000)
    sign_in(page, person("front_desk"))
    page.goto(f"/desk/calendar?date={base.date().isoformat()}")
    video = page.locator(".ec-event.cal-block", has_text="Karen Lee")
    expect(video.locator(".cal-block__what")).to_contain_text("by video")
    expect(page.locator(".ec-event.cal-block", has_text="Martha Kowalski")).not_to_contain_text("by video")
