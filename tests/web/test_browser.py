"""The pages in a real browser (Chromium): what each role sees, filling forms, keyboard use; screenshots saved."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from careplan.extensions import db
from careplan.patients.models import Patient
from tests.web.conftest import LAPTOP, TABLET, check_page_basics, screenshot


def test_front_desk_sees_the_day_and_admits_a_patient(app, open_as, person, clinic_day):
    page = open_as(person("front_desk"))
    page.goto("/desk")
    check_page_basics(page)
    arrivals = page.locator(".arrival")
    expect(arrivals).to_have_count(2)
    expect(arrivals.nth(0)).to_contain_text("09:00")
    expect(arrivals.nth(0)).to_contain_text("Martha Kowalski")
    expect(arrivals.nth(0)).to_contain_text("until 10:55 · 2 sessions")
    expect(arrivals.nth(1)).to_contain_text("11:00")
    expect(page.locator(".column__title")).to_have_text(["Ana Moreau", "Hugo Bellamy", "Marc Tremblay"])
    expect(page.locator(".waiting")).to_contain_text("Linh Tran")
    screenshot(page, "desk-today")
    page.set_viewport_size(TABLET)
    screenshot(page, "desk-today-tablet")
    page.set_viewport_size(LAPTOP)
    # The first Tab reaches the skip link, which takes the keyboard past the navigation.
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_label("Find a patient by name, e-mail or phone").fill("kowal")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".data-table tbody tr")).to_have_count(1)
    expect(page.locator(".data-table tbody tr")).to_contain_text(re.compile(r"\n\s*\d{1,2} [A-Z][a-z]+ \d{4}\s*$"))
    screenshot(page, "desk-patients")
    page.get_by_role("link", name="Martha Kowalski").click()
    expect(page.locator("#plans")).to_contain_text("Lumbar radiculopathy, moderate")
    expect(page.locator("#plans")).to_contain_text("twice a week, 45 minutes each")
    check_page_basics(page)
    screenshot(page, "desk-patient-record")

    page.goto("/desk/patients/new")
    check_page_basics(page)
    page.get_by_label("Full name").fill("Diego Alvarez")
    page.get_by_label("E-mail", exact=True).fill("not an address")
    page.locator("#availability-0-day").select_option("wed")
    page.locator("#availability-0-start").fill("15:00")
    page.locator("#availability-0-end").fill("20:00")
    page.get_by_role("button", name="Admit patient").click()
    # Refused: the error sits by the field, the summary takes focus, the typed values stay, nothing is saved.
    expect(page.locator("#email-error")).to_have_text(re.compile("Not a valid email address"))
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.get_by_label("Full name")).to_have_value("Diego Alvarez")
    screenshot(page, "desk-patient-new-refused")
    with app.app_context():
        assert db.session.scalar(select(Patient).where(Patient.name == "Diego Alvarez")) is None

    page.get_by_label("E-mail", exact=True).fill("diego.alvarez@mail.example")
    page.get_by_role("button", name="Add another window").click()
    page.locator("#availability-2-day").select_option("sat")
    page.locator("#availability-2-start").fill("08:00")
    page.locator("#availability-2-end").fill("14:00")
    page.get_by_role("button", name="Admit patient").click()
    expect(page.locator(".flash--success")).to_have_text("Diego Alvarez is admitted.")
    expect(page.locator("h1")).to_have_text("Diego Alvarez")
    with app.app_context():
        diego = db.session.scalar(select(Patient).where(Patient.name == "Diego Alvarez"))
        assert [(w.day, f"{w.start:%H:%M}-{w.end:%H:%M}") for w in diego.availability] == [
            (2, "15:00-20:00"), (5, "08:00-14:00")]


def test_a_clinician_sees_their_day_week_and_patient(open_as, person, clinic_day):
    page = open_as(person("provider", provider_id=clinic_day.physio))
    page.goto("/me/day")
    check_page_basics(page)
    items = page.locator(".agenda__item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("09:00")
    expect(items.nth(0)).to_contain_text("Martha Kowalski")
    # plan_week 2 is the plan's third week: "week 3", as the desk's calendar names the same session.
    expect(items.nth(0)).to_contain_text("acute phase, week 3")
    screenshot(page, "me-day")
    page.get_by_role("link", name="My week").click()
    expect(page.locator(".week__day")).to_have_count(7)
    expect(page.locator(".week__day--today .slot")).to_have_count(2)
    screenshot(page, "me-week")
    page.locator(".week__day--today").get_by_role("link", name="James O'Neill").click()
    expect(page.locator("h1")).to_have_text("James O'Neill")
    expect(page.locator("#plans")).to_contain_text("Care team:")
    screenshot(page, "me-patient")


def test_a_patient_sees_their_appointments_and_plan_in_plain_words(open_as, person, clinic_day):
    page = open_as(person("patient", patient_id=clinic_day.martha))
    page.goto("/my/appointments")
    check_page_basics(page)
    visits = page.locator(".visit-card")
    # Today's visit may already be over; the two weeks ahead are always upcoming, each one trip of two sessions.
    assert visits.count() >= 2
    expect(visits.last.locator(".visit-card__session")).to_have_count(2)
    expect(visits.last).to_contain_text("09:00 – 10:55")
    expect(visits.last.locator(".visit-card__session").last).to_contain_text("Massage therapy")
    expect(visits.last.locator(".visit-card__session").last).to_contain_text("with Marc Tremblay, massage therapist")
    screenshot(page, "my-appointments")
    page.get_by_role("link", name="My plan").click()
    expect(page.locator(".plain-phase")).to_have_count(3)
    expect(page.locator(".plain-phase").first).to_contain_text("Calm the irritated nerve and ease the pain.")
    expect(page.locator(".plain-phase").first).to_contain_text("twice a week, 45 minutes each")
    expect(page.locator(".plain-phase").last).to_contain_text("once every 2 weeks, 60 minutes each")
    check_page_basics(page)
    screenshot(page, "my-plan")


def test_an_admin_edits_a_provider_and_records_time_off(open_as, person, clinic_day):
    page = open_as(person("admin"))
    page.goto("/admin/providers")
    check_page_basics(page)
    expect(page.locator(".data-table tbody tr")).to_have_count(3)
    screenshot(page, "admin-providers")
    page.get_by_role("link", name="Hugo Bellamy").click()
    page.get_by_label("Massage therapy").check()
    page.locator("#availability-0-end").fill("12:00")
    page.get_by_role("button", name="Save changes").click()
    # The clinic day's sessions are today, whatever the weekday: on a day outside Hugo's new hours the save
    # also says how many of his appointments now fall outside them.
    expect(page.locator(".flash")).to_have_text(re.compile(
        r"^(Changes saved\.|Saved\. \d+ appointments? now falls? outside these hours: .*)$"))
    expect(page.locator("h1 + .subtle")).to_contain_text("Massage therapy")

    year = clinic_day.day.year + 1
    page.get_by_label("Away from").fill(f"{year}-03-01T08:00")
    page.get_by_label("Back at").fill(f"{year}-02-26T17:00")
    page.get_by_role("button", name="Record time off").click()
    expect(page.locator("#end-error")).to_contain_text("must be after start")
    page.get_by_label("Back at").fill(f"{year}-03-05T17:00")
    page.get_by_label("Reason").fill("Vacation")
    page.get_by_role("button", name="Record time off").click()
    # Next comes the re-plan the absence needs: nothing is booked inside it here.
    expect(page.locator("h1")).to_contain_text("Hugo Bellamy is away: re-plan the care this time off touches")
    expect(page.locator("#affected-title + *")).to_have_text("No booked appointment falls inside this absence.")
    check_page_basics(page)
    screenshot(page, "admin-absence-replan")
    page.get_by_role("link", name="Hugo Bellamy").click()
    expect(page.locator(".time-off__item")).to_contain_text(
        re.compile(rf"\w{{3}} 1 Mar {year} 08:00 to \w{{3}} 5 Mar {year} 17:00"))
    check_page_basics(page)
    screenshot(page, "admin-provider")

    # The administrator's other pages: templates, accounts, the audit trail.
    for path, name in (("/admin/templates", "admin-templates"), ("/admin/users", "admin-users"),
                       ("/admin/audit", "admin-audit")):
        page.goto(path)
        check_page_basics(page)
        screenshot(page, name)


HEADER_ROW = """() => ['.brand', '.site-nav', '.visitor'].map(s => {
  const box = document.querySelector(s).getBoundingClientRect(); return Math.round(box.top + box.height / 2); })"""


def test_the_administrators_navigation_is_one_row_on_a_desk_screen(app, open_as, person):
    """Nine entries, the clinic's name and who is signed in, side by side at 1440 px: nothing wraps to a
    second row of the header."""
    from careplan.clinic import service as clinic

    with app.app_context():
        clinic.update_settings({"name": "Riverside Spine & Wellness"})
    page = open_as(person("admin"), {"width": 1440, "height": 900})
    page.goto("/desk/patients")
    expect(page.locator(".site-nav a")).to_have_count(9)
    middles = page.evaluate(HEADER_ROW)
    assert max(middles) - min(middles) <= 4, middles
    assert page.locator(".site-header").bounding_box()["height"] < 80
    screenshot(page, "admin-header-1440")
