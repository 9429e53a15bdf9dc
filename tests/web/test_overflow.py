"""No page overflows its frame: every page of the front desk, the clinicians and the administrators (and the
patient's own), on
the demo clinic, at 1440 px (a desk's screen) and 390 px (a phone). The document never scrolls sideways and no
table cell or panel lets its content spill out; a wide table scrolls inside its own frame instead.
Screenshots of every page at both widths: tests/artifacts/overflow-<role>-<page>-<width>.png."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.extensions import db
from careplan.intake.models import Intake
from careplan.patients.models import Patient
from careplan.plans.models import CarePlan
from careplan.protocols.models import ProtocolTemplate
from careplan.providers.models import Provider, ProviderTimeOff
from careplan.scheduling.models import Appointment
from tests.web.conftest import PHONE, WIDE, screenshot, sign_in


# Elements whose content is wider than themselves while they let it show (overflow visible): text or a
# table spilling out of its cell, a panel or a column. Wrappers that scroll (overflow auto) are not counted.
SPILLS = """() => {
  const found = [];
  for (const el of document.querySelectorAll('main td, main th, main .panel, main section, main li, main p, main h1, main h2, main dd, main label, main .page-head, main form, main .field')) {
    if (el.closest('[hidden]') || el.offsetParent === null) continue;
    const style = getComputedStyle(el);
    if (style.overflowX !== 'visible') continue;
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      found.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : '') +
                 ' ' + el.scrollWidth + '>' + el.clientWidth + ': ' + el.textContent.trim().slice(0, 40));
    }
  }
  return found;
}"""

# A drop-down too narrow for the choice it shows: its text is cut, and nothing spills, so SPILLS misses it (the
# provider form's location column showed "Kir" for "King West" at 1440 px). The arrow takes about 20 px.
CLIPPED_CHOICES = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const found = [];
  for (const sel of document.querySelectorAll('main select')) {
    if (sel.closest('[hidden]') || sel.offsetParent === null || sel.selectedIndex < 0) continue;
    const style = getComputedStyle(sel);
    ctx.font = style.font;
    const text = sel.options[sel.selectedIndex].text.trim();
    const room = sel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
    if (ctx.measureText(text).width > room + 1) found.push('select#' + sel.id + ' cuts "' + text + '"');
  }
  return found;
}"""

# A badge stretched across its box reads as an empty input, not a label ("Completed" on the desk's Today, as wide
# as the clinician's column): a badge is no wider than its words and its padding.
STRETCHED_BADGES = """() => [...document.querySelectorAll('main .badge')].filter(el => el.offsetParent !== null)
  .filter(el => { const range = document.createRange(); range.selectNodeContents(el);
                  return el.getBoundingClientRect().width > range.getBoundingClientRect().width + 40; })
  .map(el => 'badge "' + el.textContent.trim() + '" stretched to ' + Math.round(el.getBoundingClientRect().width) + ' px')"""

# What sticks out past the right edge of the window, innermost first (what to fix when a page is too wide).
STICKING_OUT = """() => {
  const edge = document.documentElement.clientWidth;
  const clipped = el => { for (let up = el.parentElement; up; up = up.parentElement) {
    if (getComputedStyle(up).overflowX !== 'visible') return true; } return false; };
  const out = [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > edge + 1
                                                                   && !clipped(el));
  return out.filter(el => !out.some(other => other !== el && el.contains(other))).slice(0, 4)
    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '') +
               ' "' + el.textContent.trim().slice(0, 30) + '"');
}"""


CALENDAR_SCROLLS = """() => [...document.querySelectorAll('main .calendar-scroll')]
  .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.scrollWidth + '>' + el.clientWidth)"""


def _demo_ids(app) -> dict:
    """The demo clinic, and the records the pages show: Aisha (psychotherapy in her plan), Robert (a red flag
    overridden), Pierre (a red flag waiting), Linh (a booked plan), an appointment of today, an absence."""
    with app.app_context():
        from careplan.demo import load_demo

        load_demo()
        by_name = {p.name: p.id for p in db.session.scalars(select(Patient))}
        linh_plan = db.session.scalar(select(CarePlan.id).where(CarePlan.patient_id == by_name["Linh Tran"]))
        aisha_plan = db.session.scalar(select(CarePlan.id).where(CarePlan.patient_id == by_name["Aisha Mohammed"]))
        booked = db.session.scalar(select(Appointment).where(Appointment.status == "booked",
                                                             Appointment.starts_at > utcnow())
                                   .order_by(Appointment.starts_at).limit(1))
        absence = db.session.scalar(select(ProviderTimeOff).order_by(ProviderTimeOff.id).limit(1))
        pierre_intake = db.session.scalar(select(Intake.id).where(Intake.patient_id == by_name["Pierre Gagnon"]))
        # Linh's clinician, who wrote her note.
        linh_clinician = db.session.scalar(select(Appointment.provider_id).where(
            Appointment.patient_id == by_name["Linh Tran"]).order_by(Appointment.starts_at).limit(1))
        ana = db.session.scalar(select(Provider.id).where(Provider.name == "Ana Moreau"))
        template = db.session.scalar(select(ProtocolTemplate.id).order_by(ProtocolTemplate.id).limit(1))
        # A second session, cancelled: its freed slot's backfill page. A proposal for Martha's plan, queued.
        from careplan.jobs import service as jobs
        from careplan.scheduling import service as scheduling
        from tests import factories

        second = db.session.scalar(select(Appointment.id).where(Appointment.status == "booked",
                                                                Appointment.id != booked.id,
                                                                Appointment.starts_at > utcnow())
                                   .order_by(Appointment.starts_at).limit(1))
        scheduling.update_appointment(second, {"status": "cancelled", "reason": "Called in sick"},
                                      caller=factories.CALLER)
        martha_plan = db.session.scalar(select(CarePlan.id).where(CarePlan.patient_id == by_name["Martha Kowalski"]))
        job = jobs.submit_proposal(martha_plan, {}, caller=factories.CALLER).id
        day = clinic.to_local(booked.starts_at).date()
        return {"linh": by_name["Linh Tran"], "aisha": by_name["Aisha Mohammed"], "robert": by_name["Robert Chen"],
                "linh_plan": linh_plan, "aisha_plan": aisha_plan, "booked": booked.id,
                "booked_provider": booked.provider_id, "day": day.isoformat(),
                "moved_to": (clinic.to_local(booked.starts_at) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
                "absence": absence.id, "absent": absence.provider_id, "pierre_intake": pierre_intake,
                "linh_clinician": linh_clinician, "ana": ana, "template": template, "cancelled": second,
                "job": job}


def _pages(ids: dict) -> dict[str, list[str]]:
    return {
        "admin": [
            "/admin/providers", f"/admin/providers/{ids['ana']}", "/admin/providers/new",
            f"/admin/providers/{ids['absent']}/time-off/{ids['absence']}/replan",
            "/admin/templates", f"/admin/templates/{ids['template']}", "/admin/users", "/admin/audit",
            "/admin/webhooks",
        ],
        "front_desk": [
            "/desk", f"/desk/calendar?date={ids['day']}", f"/desk/calendar?provider={ids['ana']}&date={ids['day']}",
            "/desk/flagged", "/desk/patients", "/desk/patients/new", f"/desk/patients/{ids['aisha']}",
            f"/desk/patients/{ids['linh']}", f"/desk/patients/{ids['robert']}/intake",
            f"/desk/intakes/{ids['pierre_intake']}", f"/desk/plans/{ids['aisha_plan']}",
            f"/desk/plans/{ids['linh_plan']}/schedule", f"/desk/appointments/{ids['booked']}?another=1",
            f"/desk/appointments/new?provider={ids['booked_provider']}&start={ids['moved_to']}&q=tran",
            f"/desk/appointments/{ids['booked']}/move",
            f"/desk/appointments/{ids['booked']}/moving?start={ids['moved_to']}",
            f"/desk/appointments/{ids['cancelled']}/backfill", f"/desk/jobs/{ids['job']}",
        ],
        "provider": ["/me/day", "/me/week", "/me/patients", f"/me/patients/{ids['linh']}"],
        # Linh's booked plan: visit cards whose sessions carry long discipline names and four actions each.
        "patient": ["/my/appointments", "/my/plan"],
    }


def _name(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:60]


def test_no_staff_page_overflows_at_1440_or_390_px(app, person, tab):
    ids = _demo_ids(app)
    people = {"admin": person("admin"), "front_desk": person("front_desk"),
              "provider": person("provider", provider_id=ids["linh_clinician"]),
              "patient": person("patient", patient_id=ids["linh"])}
    problems = []
    for role, paths in _pages(ids).items():
        page = tab(WIDE)
        sign_in(page, people[role])
        for viewport in (WIDE, PHONE):
            page.set_viewport_size(viewport)
            for path in paths:
                response = page.goto(path)
                assert response.status == 200, (path, response.status)
                page.wait_for_load_state("networkidle")
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > viewport["width"]:
                    problems.append(f"{role} {path} at {viewport['width']} px: the page is {width} px wide, "
                                    f"past the edge: {', '.join(page.evaluate(STICKING_OUT))}")
                problems += [f"{role} {path} at {viewport['width']} px: {spill}"
                             for spill in page.evaluate(SPILLS) + page.evaluate(CLIPPED_CHOICES)
                             + page.evaluate(STRETCHED_BADGES)]
                if viewport is WIDE:
                    # A plan's weeks scroll sideways on a phone, never on a desk's screen (Saturday was cut off).
                    problems += [f"{role} {path} at 1440 px: the plan calendar scrolls ({scrolled})"
                                 for scrolled in page.evaluate(CALENDAR_SCROLLS)]
                screenshot(page, f"overflow-{role}-{_name(path)}-{viewport['width']}")
    assert problems == [], "\n".join(problems)
