"""The week grid of a booked plan in Chromium: a discipline's name is one long word, and it used to break one
letter from its end ("Physiotherap" / "y") in a 1440 px desk screen's grid, where hyphenation has no dictionary.
Screenshots under tests/artifacts/plan-calendar-*.png."""
from __future__ import annotations

from datetime import timedelta

from careplan.clinic import service as clinic
from tests import factories
from tests.web.conftest import WIDE, at, book, draft_plan, screenshot, sign_in

# Each word of each discipline label: whether it lies on more than one line.
TORN_WORDS = """() => { const torn = [];
  for (const el of document.querySelectorAll('.session-block__what')) {
    const node = el.firstChild, text = node.textContent, words = /\\S+/g; let m;
    while ((m = words.exec(text))) {
      const range = document.createRange(); range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
      if (new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1) torn.push(m[0]); } }
  return torn; }"""


def _booked_plan(app, sunday: bool) -> int:
    with app.app_context():
        physio = factories.provider(name="Daniel Okafor", hours="mon-sun 08:00-20:00").id
        psycho = factories.provider(name="Elena Petrova", disciplines=("psychotherapy",), hours="mon-sun 08:00-20:00").id
        patient = factories.patient(name="Linh Tran", hours="mon-sun 08:00-20:00").id
        today = clinic.today()
        monday = today + timedelta(days=7 - today.weekday())
        plan = draft_plan(patient, {"physiotherapy": physio}, monday, status="booked")
        for week in range(2):
            day = monday + timedelta(weeks=week)
            book(patient, physio, "physiotherapy", at(day, "16:00"), plan_id=plan.id, phase_name="acute",
                 plan_week=week)
            book(patient, psycho, "psychotherapy", at(day + timedelta(days=2), "10:00"), 50, plan_id=plan.id,
                 phase_name="acute", plan_week=week)
            if sunday:
                book(patient, physio, "physiotherapy", at(day + timedelta(days=6), "10:00"), plan_id=plan.id,
                     phase_name="acute", plan_week=week)
        return plan.id


def test_a_disciplines_name_stays_whole_in_the_booked_week_grid(app, person, tab):
    plan_id = _booked_plan(app, sunday=False)
    page = tab(WIDE)
    sign_in(page, person("front_desk"))
    page.goto(f"/desk/plans/{plan_id}/schedule")
    assert page.locator(".session-block__what", has_text="Physiotherapy").count() >= 2
    screenshot(page, "plan-calendar-booked")
    assert page.evaluate(TORN_WORDS) == []


def test_with_a_sunday_column_the_names_stay_whole_and_the_grid_scrolls_in_its_frame(app, person, tab):
    plan_id = _booked_plan(app, sunday=True)
    page = tab(WIDE)
    sign_in(page, person("front_desk"))
    page.goto(f"/desk/plans/{plan_id}/schedule")
    assert page.locator(".plan-calendar thead th").count() == 8
    screenshot(page, "plan-calendar-sunday")
    assert page.evaluate(TORN_WORDS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDE["width"]
