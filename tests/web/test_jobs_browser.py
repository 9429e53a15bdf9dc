"""A solve job's page in Chromium: the optimizer's own progress reaches it (sessions placed, visits, elapsed
time moving on) while the in-process runner solves, Cancel stops it, and without JavaScript the page
refreshes itself until the job ends."""
from __future__ import annotations

import re

from careplan.jobs import service as jobs
from tests import factories
from tests.web.conftest import LAPTOP, screenshot, sign_in
from tests.web.test_content_security import watched_tab  # noqa: F401 (fixture)


def _long_batch(app, seconds: float, monkeypatch, patients: int = 8) -> int:
    """A batch intake asking for `seconds` (the testing settings cap it lower), queued in one commit: the
    runner beside the live server may claim it at once."""
    monkeypatch.setitem(app.config, "BATCH_MAX_SECONDS", seconds)
    with app.app_context():
        plans = factories.busy_clinic(patients)
        return jobs.submit_batch(plans, {"time_limit": seconds}, caller=factories.CALLER).id


def _figure(page, name: str) -> str:
    return page.locator(f"[data-job-figure={name}]").inner_text()


def test_the_optimizers_progress_reaches_the_page_and_cancel_stops_it(app, person, watched_tab, monkeypatch, tab):
    from playwright.sync_api import expect

    # More patients than the clinicians can take: the optimizer keeps searching to the end of the minute.
    job_id = _long_batch(app, 60.0, monkeypatch, patients=14)
    page, problems = watched_tab(person("front_desk"))
    page.goto(f"/desk/jobs/{job_id}")
    expect(page.locator("h1")).to_contain_text("Proposing the intake's plans")
    state = page.locator("[data-job-state]")
    expect(state).to_have_text("Optimizing", timeout=15000)
    # Figures from CP-SAT's callbacks, polled from the job's JSON: no reload in between.
    expect(page.locator("[data-job-figure=scheduled]")).to_have_text(re.compile(r"^\d+$"), timeout=15000)
    expect(page.locator("[data-job-figure=visits]")).to_have_text(re.compile(r"^\d+$"), timeout=15000)
    first = float(_figure(page, "elapsed"))
    page.wait_for_timeout(1500)
    assert float(_figure(page, "elapsed")) > first
    assert int(_figure(page, "demand")) == 14 * (1 + 8 * 3)
    assert int(_figure(page, "scheduled")) <= int(_figure(page, "demand"))
    assert page.locator("[data-job-clock]").get_attribute("max") == "60.0"
    screenshot(page, "job-01-progress")
    page.get_by_role("button", name="Cancel").click()
    expect(state).to_have_text("Cancelled", timeout=5000)
    expect(page.get_by_text("Nothing was held.")).to_be_visible()
    screenshot(page, "job-02-cancelled")
    assert problems == []


def test_without_javascript_the_job_page_refreshes_itself_until_the_job_ends(app, live_jobs, person, monkeypatch, tab):
    from playwright.sync_api import expect

    job_id = _long_batch(app, 4.0, monkeypatch)
    page = tab(LAPTOP, timeout=15000, java_script_enabled=False)
    sign_in(page, person("front_desk"))
    page.goto(f"/desk/jobs/{job_id}")
    expect(page.locator("[data-job-figure=scheduled]")).to_have_text(re.compile(r"^\d+$"))
    # A batch has no one plan to go to: its page lists the proposals it made.
    expect(page.locator("[data-job-state]")).to_have_text("Done")
    expect(page.locator(".job a[href*='/schedule?proposal=']")).to_have_count(8)
    screenshot(page, "job-03-done-without-javascript")
