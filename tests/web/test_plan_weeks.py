"""People count a plan's weeks from 1 on every page: the desk's proposal and booked schedule, the optimizer's
reasons as the pages show them, the backfill list and an absence's re-plans say "week 1" for the week holding
the plan's start, as the clinic calendar and the clinician's day do (the API's `week` fields count from 0)."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from sqlalchemy import select

from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.providers.models import Provider
from careplan.providers.service import add_time_off
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.test_schedule import FAST, mild_plan, through_the_job

WEEK_ZERO = re.compile(r"\bweek 0\b", re.I)


def _plan_with_massage_nobody_can_give(app) -> tuple[int, int]:
    """A mild thoracic plan starting next Monday whose massage therapist works Sundays only, when the patient
    never comes: every massage session stays unplaced, with the optimizer's reason."""
    return mild_plan(app, massage_hours="sun 08:00-18:00")


def test_the_proposal_and_the_booked_schedule_count_weeks_from_one(client, app, auth, run_jobs):
    plan_id, _ = _plan_with_massage_nobody_can_give(app)
    desk = auth("front_desk")
    proposed = client.post(f"/desk/plans/{plan_id}/proposals", headers=desk, data={**FAST, "deterministic": "on"})
    page = client.get(through_the_job(client, run_jobs, proposed, desk), headers=desk).text

    # The calendar's first row is the week holding the start.
    rows = re.findall(r'class="plan-calendar__number">([^<]+)<', page)
    assert rows[0] == "Week 1" and rows[1] == "Week 2"
    # Each unplaced session's label and the optimizer's reason beside it name the same week, from 1.
    unplaced = re.findall(r"acute phase, week (\d+): <span class=\"unscheduled__why\">([^<]*)</span>", page)
    assert unplaced, page[page.index('id="unscheduled-title"'):][:2000]
    massage = [(week, reason.replace("&#39;", "'")) for week, reason in unplaced if "massage" in reason]
    assert {week for week, _ in massage} >= {"1", "2"}
    for week, reason in massage:
        assert f"in plan week {week} (" in reason, (week, reason)
    assert not WEEK_ZERO.search(page)

    proposal_id = int(re.search(r"/desk/proposals/(\d+)/book", page).group(1))
    assert client.post(f"/desk/proposals/{proposal_id}/book", headers=desk).status_code == 302
    booked = client.get(f"/desk/plans/{plan_id}/schedule", headers=desk).text
    # The table of booked appointments: the first week's sessions are "acute, week 1".
    assert re.search(r'<span class="subtle">acute, week 1</span>', booked)
    assert not WEEK_ZERO.search(booked)


def test_the_backfill_list_counts_weeks_from_one(client, app, auth):
    """A freed Monday in the second week of another patient's plan is offered as that plan's week 2."""
    with app.app_context():
        week = factories.plan_week(weeks_ahead=2)
        other = factories.patient(name="Noor Haddad", hours="mon-fri 09:00-17:00")
        ana = db.session.get(Provider, week["ana"])
        factories.care_plan(other, {"physiotherapy": ana}, start=week["monday"] - timedelta(weeks=1))
        freed = week["sessions"][0]
    desk = auth("front_desk")
    cancelled = client.post(f"/desk/appointments/{freed}/cancel", headers=desk, data={"reason": "Patient ill"})
    page = client.get(cancelled.headers["Location"], headers=desk).text
    assert "Noor Haddad" in page
    assert "Acute phase, plan week 2 ·" in page and "plan week 1 ·" not in page


def test_an_absences_re_plan_counts_weeks_from_one(client, app, auth, run_jobs):
    """The only physiotherapist is away the whole first week: its sessions cannot move, and the re-plan says
    which week they belong to as people count it."""
    plan_id, physio = mild_plan(app)
    with app.app_context():
        today = datetime.now(clinic.zone()).date()
    monday = today + timedelta(days=7 - today.weekday())
    desk = auth("front_desk")
    proposed = client.post(f"/desk/plans/{plan_id}/proposals", headers=desk, data={**FAST, "deterministic": "on"})
    proposal_id = int(through_the_job(client, run_jobs, proposed, desk).rsplit("proposal=", 1)[1])
    assert client.post(f"/desk/proposals/{proposal_id}/book", headers=desk).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Appointment.id).where(
            Appointment.plan_id == plan_id, Appointment.provider_id == physio, Appointment.plan_week == 0).limit(1))
        away = add_time_off(physio, {"starts_at": clinic.local_datetime(monday, time.min),
                                     "ends_at": clinic.local_datetime(monday + timedelta(days=7), time.min),
                                     "reason": "Course"})
        away_id = away.time_off.id
    asked = client.post(f"/admin/providers/{physio}/time-off/{away_id}/replan", headers=desk,
                        data={**FAST, "deterministic": "on"})
    page = client.get(through_the_job(client, run_jobs, asked, desk), headers=desk).text
    assert "Re-plan proposals" in page
    not_placed = [(week, reason) for week, reason in re.findall(r"week (\d+) not placed: ([^<]*)</li>", page)
                  if "physiotherapy" in reason]
    assert not_placed and {week for week, _ in not_placed} == {"1"}
    assert all("plan week 1 (" in reason for _, reason in not_placed)
    assert not WEEK_ZERO.search(page)
