"""The Content-Security-Policy in a real browser: the main pages of each role, the sign-in page, an e-mail
link's page and Swagger UI run under it without a single violation (Chromium reports each one in the
console; a `securitypolicyviolation` listener reports the rest)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from careplan.db import utcnow
from careplan.extensions import db
from careplan.plans.models import CarePlan
from careplan.reminders.links import link_url
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.conftest import LAPTOP, sign_in

REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', event =>
  console.error('CSP violation: ' + event.violatedDirective + ' blocked ' + event.blockedURI))"""


@pytest.fixture
def watched_tab(browser, live_server, live_jobs):
    """watched_tab(person or None) -> (tab, problems): a tab (signed in unless None) whose CSP violations and
    script errors land in `problems`, from its very first page."""
    contexts = []

    def open_tab(person=None):
        context = browser.new_context(base_url=live_server, viewport=LAPTOP, locale="en-CA")
        context.set_default_timeout(10000)
        contexts.append(context)
        context.add_init_script(REPORT_VIOLATIONS)
        problems: list[str] = []
        page = context.new_page()
        page.on("console", lambda message: problems.append(f"{page.url}: {message.text}")
                if message.type == "error" and ("Content Security Policy" in message.text
                                                or "CSP violation" in message.text) else None)
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        if person is not None:
            sign_in(page, person)
        return page, problems

    yield open_tab
    for context in contexts:
        context.close()


def visit(page, paths: list[str]) -> None:
    for path in paths:
        response = page.goto(path)
        assert response.status < 500, path
        assert "no-store" in response.headers["cache-control"], path
        page.wait_for_load_state("load")


def test_no_page_breaks_the_content_security_policy(app, watched_tab, person, clinic_day):
    with app.app_context():
        factories.protocols()
        draft = db.session.scalar(select(CarePlan.id).where(CarePlan.patient_id == clinic_day.newcomer))
        booked = db.session.scalar(select(CarePlan.id).where(CarePlan.patient_id == clinic_day.martha))
        upcoming = db.session.scalars(select(Appointment).where(
            Appointment.patient_id == clinic_day.martha, Appointment.starts_at > utcnow())
            .order_by(Appointment.starts_at)).first()
        upcoming_id, link = upcoming.id, urlsplit(link_url(upcoming, "confirm")).path

    page, problems = watched_tab(None)
    visit(page, ["/login", link])

    page, desk_problems = watched_tab(person("front_desk"))
    visit(page, ["/desk", "/desk/patients?q=a", "/desk/patients/new", f"/desk/patients/{clinic_day.martha}/intake",
                 f"/desk/plans/{draft}", f"/desk/plans/{draft}/schedule", f"/desk/plans/{booked}/schedule",
                 "/admin/providers", f"/admin/providers/{clinic_day.physio}", "/desk/no-such-page"])
    # The page's own script runs: the weekly-hours editor adds a row.
    visit(page, [f"/desk/patients/{clinic_day.martha}"])
    rows = page.locator("[data-window-row]").count()
    page.get_by_role("button", name="Add another window").click()
    expect(page.locator("[data-window-row]")).to_have_count(rows + 1)

    page, admin_problems = watched_tab(person("admin"))
    visit(page, ["/admin/templates", "/admin/users", "/admin/audit", "/admin/providers/new", "/api/docs"])
    # Swagger UI started (its start-up script is a file now) and drew the operations.
    expect(page.locator(".opblock").first).to_be_visible()

    page, clinician_problems = watched_tab(person("provider", provider_id=clinic_day.physio))
    visit(page, ["/me/day", "/me/week", "/me/patients", f"/me/patients/{clinic_day.martha}"])

    page, patient_problems = watched_tab(person("patient", patient_id=clinic_day.martha))
    visit(page, ["/my/appointments", "/my/plan", f"/my/appointments/{upcoming_id}/cancel"])

    assert problems + desk_problems + admin_problems + clinician_problems + patient_problems == []


def test_a_first_page_asks_for_nothing_that_is_not_there(browser, live_server):
    """A fresh tab's first page asked for /favicon.ico, which answered 404: an error in every console. The
    pages name the clinic's mark as their icon, and it is served under the policy."""
    context = browser.new_context(base_url=live_server, viewport=LAPTOP, locale="en-CA")
    try:
        page = context.new_page()
        failed: list[str] = []
        page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
                if response.status >= 400 else None)
        page.on("console", lambda message: failed.append(message.text) if message.type == "error" else None)
        page.goto("/login")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)  # the icon is asked for after the load
        assert failed == []
        icon = page.locator("link[rel=icon]").get_attribute("href")
        assert context.request.get(live_server + icon).headers["content-type"].startswith("image/svg+xml")
    finally:
        context.close()
