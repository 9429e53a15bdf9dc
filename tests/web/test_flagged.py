"""The pages of a change of hours: the admin learns how many appointments it left outside, the front desk
finds them (linked from the desk's home) with the next step for each: move, or re-plan the plan."""
from __future__ import annotations

from datetime import date

import pytest

from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.conftest import at
from tests.web.test_content_security import watched_tab  # noqa: F401  (a tab that reports CSP violations)
from tests.web.test_editing_together import form_of

MONDAY = date(2027, 3, 15)


@pytest.fixture
def week(app):
    """Ana works 08:00-16:00; Martha's plan has a 09:00 session with her, James a one-off at 14:00."""
    with app.app_context():
        ana = factories.provider(name="Ana Moreau", hours="mon-fri 08:00-16:00")
        martha = factories.patient(name="Martha Kowalski")
        james = factories.patient(name="James O'Neill")
        plan = factories.care_plan(martha, {"physiotherapy": ana}, start=MONDAY)
        morning = factories.appointment(martha, ana, at(MONDAY, "09:00"), plan_id=plan.id, phase_name="acute",
                                        plan_week=0)
        afternoon = factories.appointment(james, ana, at(MONDAY, "14:00"))
        return {"ana": ana.id, "plan": plan.id, "morning": morning.id, "afternoon": afternoon.id}


def test_saving_shorter_hours_says_how_many_appointments_fall_outside_and_the_desk_lists_them(client, auth, week):
    admin, desk = auth("admin"), auth("front_desk")
    url = f"/admin/providers/{week['ana']}"
    form = form_of(client.get(url, headers=admin).text)
    for row in range(5):
        form[f"availability-{row}-start"] = "12:00"
    saved = client.post(url, headers=admin, data=form)
    assert saved.status_code == 302
    page = client.get(url, headers=admin).text
    assert "1 appointment now falls outside these hours" in page and "Changes saved" not in page
    assert 'href="/desk/flagged"' in page

    home = client.get("/desk", headers=desk).text
    assert 'href="/desk/flagged"' in home and "1 booked appointment now falls outside" in home

    listing = client.get("/desk/flagged", headers=desk)
    assert listing.status_code == 200
    text = listing.text
    assert "Martha Kowalski" in text and "James O&#39;Neill" not in text
    assert "outside Ana Moreau&#39;s working hours" in text
    assert f'href="/desk/appointments/{week["morning"]}/move"' in text
    assert f'action="/desk/plans/{week["plan"]}/replans"' in text

    # Hours back as they were: the list is empty and the save is just saved.
    form = form_of(client.get(url, headers=admin).text)
    for row in range(5):
        form[f"availability-{row}-start"] = "08:00"
    client.post(url, headers=admin, data=form)
    assert "Changes saved" in client.get(url, headers=admin).text
    assert "Every booked appointment is inside its clinician's hours" in client.get("/desk/flagged", headers=desk).text


def test_time_off_over_bookings_says_so_and_the_desk_links_the_absence_s_re_plan(client, auth, week, app):
    desk = auth("front_desk")
    recorded = client.post(f"/admin/providers/{week['ana']}/time-off", headers=desk,
                           data={"start": "2027-03-15T00:00", "end": "2027-03-16T00:00", "reason": "Course"})
    assert recorded.status_code == 302 and "/replan" in recorded.headers["Location"]
    replan_page = client.get(recorded.headers["Location"], headers=desk).text
    # Said as what it is: time off, not a change of hours.
    assert "Time off recorded. 2 booked appointments are inside it" in replan_page
    assert "outside these hours" not in replan_page

    text = client.get("/desk/flagged", headers=desk).text
    assert "Martha Kowalski" in text and "James O&#39;Neill" in text
    assert recorded.headers["Location"].split("localhost")[-1] in text
    # The one-off appointment has no plan to re-plan: moving it is its next step.
    assert f'href="/desk/appointments/{week["afternoon"]}/move"' in text
    assert text.count("/replans\"") == 1


def test_an_absence_over_one_off_appointments_only_offers_no_re_plan(client, auth, week):
    """Found in use: "Propose the re-plans" was offered for James's one-off session, which has no plan."""
    desk = auth("front_desk")
    recorded = client.post(f"/admin/providers/{week['ana']}/time-off", headers=desk,
                           data={"start": "2027-03-15T12:00", "end": "2027-03-15T16:00", "reason": "Sick"})
    page = client.get(recorded.headers["Location"], headers=desk).text
    assert "No plan: move by hand" in page and f'href="/desk/appointments/{week["afternoon"]}/move"' in page
    assert "Propose the re-plans" not in page and "None of them belongs to a care plan" in page


def test_moving_a_flagged_appointment_on_the_page_takes_it_off_the_list(client, auth, week, app):
    desk = auth("front_desk")
    client.post(f"/admin/providers/{week['ana']}/time-off", headers=desk,
                data={"start": "2027-03-15T08:00", "end": "2027-03-15T12:00", "reason": ""})
    assert "Martha Kowalski" in client.get("/desk/flagged", headers=desk).text
    moved = client.post(f"/desk/appointments/{week['morning']}/move", headers=desk,
                        data={"start": "2027-03-15T12:30", "provider_id": str(week["ana"])})
    assert moved.status_code == 302
    assert "Martha Kowalski" not in client.get("/desk/flagged", headers=desk).text
    with app.app_context():
        assert clinic.to_local(db.session.get(Appointment, week["morning"]).starts_at).hour == 12


def test_in_the_browser_the_desk_goes_from_home_to_the_flagged_list_to_a_re_plan_in_one_click(
        app, week, person, watched_tab):
    from playwright.sync_api import expect

    from careplan.providers.service import update_provider

    with app.app_context():
        change = update_provider(week["ana"], {"availability": factories.windows("mon-fri 12:00-16:00")})
        assert [a.id for a in change.affected] == [week["morning"]]
    page, problems = watched_tab(person("front_desk"))
    page.goto("/desk")
    page.get_by_role("link", name="Move or re-plan them").click()
    expect(page.get_by_role("heading", name="Appointments needing attention")).to_be_visible()
    row = page.locator(f"#appointment-{week['morning']}")
    expect(row).to_contain_text("outside Ana Moreau's working hours")
    row.get_by_role("button", name="Re-plan Martha Kowalski's plan").click()
    page.wait_for_url(f"**/desk/plans/{week['plan']}/schedule?proposal=*")
    expect(page.get_by_text("Proposal ready")).to_be_visible()
    assert problems == []
