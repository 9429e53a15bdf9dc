"""Fixtures for the pages: a live server in a thread, one Chromium for the session, signed-in tabs, and data.

Signing in happens in `sign_in` alone: it fills the /login form like a person
(the session cookie and the form's CSRF token come with it).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.plans.models import CarePlan, CareTeamMember, Phase, SessionLine
from careplan.scheduling.models import Appointment
from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LAPTOP = {"width": 1366, "height": 900}
WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# Every test person's password, for signing in through the /login form.
PASSWORD = "correct horse battery"
TABLET = {"width": 820, "height": 1180}


@dataclass(frozen=True)
class Person:
    """A user as the tests need it after its database session is gone."""

    id: int
    email: str
    role: str
    provider_id: int | None = None
    patient_id: int | None = None


def make_person(role: str, **links) -> Person:
    user = factories.user(role, password=PASSWORD, **links)
    return Person(user.id, user.email, user.role, user.provider_id, user.patient_id)


@pytest.fixture
def person(app):
    """person("front_desk") -> a new user of that role (linked to a new provider/patient unless given)."""

    def make(role: str, **links) -> Person:
        with app.app_context():
            return make_person(role, **links)

    return make


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="careplan-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def live_jobs(app):
    """Solve jobs run in this process while a browser test runs, as `make run` runs them beside the server
    (careplan.jobs.runner.Runners); stopped after the test, so other tests run their jobs themselves."""
    from careplan.jobs.runner import Runners

    runners = Runners(app, 1, 0.1, in_child=True).start()
    yield runners
    runners.stop(timeout=30)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(page, person: Person, password: str = PASSWORD) -> None:
    """The one place that knows how a browser signs in: the /login form, landing on the role's start page."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def tab(browser, live_server):
    """tab(viewport, timeout=10000, **options) -> a fresh page in a browser context of its own on the live
    server (Canadian English, waits up to `timeout` ms), closed after the test; `options` go to the context
    (java_script_enabled=False, ...)."""
    contexts = []

    def open_tab(viewport: dict = LAPTOP, timeout: int = 10000, **options):
        context = browser.new_context(base_url=live_server, viewport=viewport, locale="en-CA", **options)
        context.set_default_timeout(timeout)
        contexts.append(context)
        return context.new_page()

    yield open_tab
    for context in contexts:
        context.close()


@pytest.fixture
def open_as(tab, live_jobs):
    """open_as(person) -> a fresh tab signed in as that person, on the live server (with a job worker)."""

    def open_tab(person: Person, viewport: dict = LAPTOP):
        page = tab(viewport, timeout=5000)
        sign_in(page, person)
        return page

    return open_tab


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# Inputs, selects and text areas a person can reach without a label that names them.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id || el.outerHTML)"""


def check_page_basics(page) -> None:
    """Landmarks, one h1, and a label on every input."""
    assert page.locator("main#main").count() == 1
    assert page.locator("header").count() >= 1
    assert page.locator("h1").count() == 1
    assert page.evaluate(UNLABELLED) == []


# --- data the pages show -------------------------------------------------------------------------------


def book(patient_id: int, provider_id: int, discipline: str, start: datetime, minutes: int = 45, **fields):
    row = Appointment(patient_id=patient_id, provider_id=provider_id, discipline_code=discipline,
                      starts_at=start, ends_at=start + timedelta(minutes=minutes), **fields)
    db.session.add(row)
    db.session.commit()
    return row


def draft_plan(patient_id: int, team: dict[str, int], start: date, status: str = "draft") -> CarePlan:
    """A moderate lumbar plan in the clinic's words: three phases with what each is for."""
    plan = CarePlan(patient_id=patient_id, status=status, region="lumbar", severity="moderate", start_date=start,
                    assessment_discipline="physiotherapy", assessment_minutes=60)
    plan.phases = [
        Phase(position=1, name="acute", weeks=3, purpose="Calm the irritated nerve and ease the pain.",
              lines=[SessionLine(discipline_code="physiotherapy", per_week=2, minutes=45),
                     SessionLine(discipline_code="massage", per_week=1, minutes=60)]),
        Phase(position=2, name="subacute", weeks=4, purpose="Rebuild strength and movement so daily life is easier.",
              lines=[SessionLine(discipline_code="physiotherapy", per_week=1, minutes=45),
                     SessionLine(discipline_code="chiropractic", per_week=1, minutes=30)]),
        Phase(position=3, name="maintenance", weeks=6, purpose="Keep it from coming back.",
              lines=[SessionLine(discipline_code="massage", per_week=1, every_weeks=2, minutes=60)]),
    ]
    plan.care_team = [CareTeamMember(discipline_code=code, provider_id=pid) for code, pid in team.items()]
    db.session.add(plan)
    db.session.commit()
    return plan


@dataclass(frozen=True)
class ClinicDay:
    day: date
    physio: int
    massage: int
    chiro: int
    martha: int
    james: int
    newcomer: int


def at(day: date, clock: str) -> datetime:
    return clinic.local_datetime(day, time.fromisoformat(clock))


@pytest.fixture
def clinic_day(app):
    """Three clinicians with a morning of sessions today, two booked plans and one draft waiting."""
    with app.app_context():
        today = datetime.now(clinic.zone()).date()
        physio = factories.provider(name="Ana Moreau", disciplines=("physiotherapy",)).id
        massage = factories.provider(name="Marc Tremblay", disciplines=("massage",)).id
        chiro = factories.provider(name="Hugo Bellamy", disciplines=("chiropractic",)).id
        martha = factories.patient(name="Martha Kowalski").id
        james = factories.patient(name="James O'Neill").id
        newcomer = factories.patient(name="Linh Tran").id
        for patient in (martha, james):
            draft_plan(patient, {"physiotherapy": physio, "massage": massage, "chiropractic": chiro},
                       today - timedelta(days=7), status="booked")
        draft_plan(newcomer, {"physiotherapy": physio}, today + timedelta(days=3))
        # Martha's visit: two back-to-back sessions; James comes later for one.
        book(martha, physio, "physiotherapy", at(today, "09:00"), plan_id=None, phase_name="acute", plan_week=2)
        book(martha, massage, "massage", at(today, "09:55"), 60, phase_name="acute", plan_week=2)
        book(james, physio, "physiotherapy", at(today, "11:00"), status="confirmed")
        book(james, chiro, "chiropractic", at(today, "11:55"), 30)
        for week in (1, 2):
            book(martha, physio, "physiotherapy", at(today + timedelta(days=7 * week), "09:00"))
            book(martha, massage, "massage", at(today + timedelta(days=7 * week), "09:55"), 60)
        return ClinicDay(today, physio, massage, chiro, martha, james, newcomer)


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
