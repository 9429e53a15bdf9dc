"""The front desk's forms with Flask's test client: the intake and its red-flag screen, the plan editor,
failed e-mails sent again."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from careplan.db import utcnow
from careplan.protocols.service import CLINIC_PROTOCOLS as PROTOCOLS
from careplan.extensions import db
from careplan.intake.models import RED_FLAGS, Intake
from careplan.plans.models import CarePlan
from careplan.protocols.service import load_directory
from careplan.reminders.models import OutboundEmail
from tests import factories


def intake_form(**answers) -> dict:
    form = {"region": "lumbar", "side": "left", "symptoms": "low back pain\nsciatica", "severity": "",
            "pain_score": "6", "daily_activities": "limited", "worsening": "false",
            **{f"red_flags-{name}": "no" for name in RED_FLAGS}}
    form.update(answers)
    return form


def test_a_red_flag_is_recorded_and_stops_there_until_a_clinician_overrides_it(client, app, auth):
    with app.app_context():
        patient_id = factories.patient().id
    desk = auth("front_desk")
    refused = client.post(f"/desk/patients/{patient_id}/intake", headers=desk,
                          data=intake_form(**{"red_flags-fever": "yes", "red_flags-night_sweats": "yes"}))
    assert refused.status_code == 302
    page = client.get(refused.headers["Location"], headers=desk)
    alert = re.search(r'<div class="alert alert--urgent" role="alert".*?</div>', page.text, re.DOTALL).group(0)
    assert "Urgent" in alert and "Fever" in alert and "Night sweats" in alert
    assert "Build the plan" not in page.text and "Override the red flag" not in page.text
    # The page says who may override as the rule is (clinicians and administrators, as the admin does below).
    assert "A clinician or an administrator may override it" in alert and "Only a clinician" not in alert
    with app.app_context():
        intake = db.session.scalar(select(Intake))
        assert intake.screen_result == "red_flag"
        intake_id = intake.id
    assert client.post(f"/desk/intakes/{intake_id}/plan", headers=desk, data={}).status_code == 422
    assert client.post(f"/desk/intakes/{intake_id}/override", headers=desk, data={"reason": "x"}).status_code == 403

    admin = auth("admin")
    assert client.post(f"/desk/intakes/{intake_id}/override", headers=admin, data={"reason": " "}).status_code == 422
    done = client.post(f"/desk/intakes/{intake_id}/override", headers=admin,
                       data={"reason": "Fever from a cold, settled; examined today."})
    assert done.status_code == 302
    assert "Red flag overridden" in client.get(done.headers["Location"], headers=desk).text


def test_any_active_clinician_overrides_from_the_page_which_shows_who_when_and_why(client, app, auth):
    with app.app_context():
        patient_id = factories.patient(name="Pierre Gagnon").id
        clinician = factories.user("provider", provider_id=factories.provider(name="Ana Moreau").id)
        clinician_id, clinician_headers = clinician.id, factories.bearer(clinician)
    desk = auth("front_desk")
    refused = client.post(f"/desk/patients/{patient_id}/intake", headers=desk,
                          data=intake_form(**{"red_flags-constant_pain_at_rest": "yes"}))
    intake_url = refused.headers["Location"]
    # On the clinician's day, a red flag waits for someone to judge it.
    day = client.get("/me/day", headers=clinician_headers)
    assert f'href="{intake_url}"' in day.text and "Pierre Gagnon" in day.text
    page = client.get(intake_url, headers=clinician_headers)
    assert page.status_code == 200 and "Override the red flag" in page.text
    # The screen is theirs to judge, not the rest of the record.
    assert f'href="/me/patients/{patient_id}"' not in page.text
    assert client.get(f"/me/patients/{patient_id}", headers=clinician_headers).status_code == 404
    reason = "Pain at rest eases lying on the side; examined, no sign of infection or fracture."
    done = client.post(f"{intake_url}/override", headers=clinician_headers, data={"reason": reason})
    assert done.status_code == 302
    shown = client.get(done.headers["Location"], headers=clinician_headers).text
    notice = re.search(r'<div class="alert alert--notice" role="status">.*?</div>', shown, re.DOTALL).group(0)
    assert "Red flag overridden" in notice and "by Ana Moreau" in notice and reason in notice
    with app.app_context():
        intake = db.session.scalar(select(Intake))
        assert intake.overridden_by_id == clinician_id
        from careplan.web.rendering import clock, day as long_day
        assert long_day(intake.overridden_at) in notice and clock(intake.overridden_at) in notice
    assert f'href="{intake_url}"' not in client.get("/me/day", headers=clinician_headers).text


def test_an_unanswered_screen_is_refused_and_keeps_what_was_typed(client, app, auth):
    with app.app_context():
        patient_id = factories.patient().id
    form = intake_form()
    del form["red_flags-fever"]
    page = client.post(f"/desk/patients/{patient_id}/intake", headers=auth("front_desk"), data=form)
    assert page.status_code == 422
    assert 'href="#red_flags-fever">Red flag: fever' in page.text
    assert "sciatica</textarea>" in page.text


def test_the_desk_builds_a_plan_from_a_clear_intake_and_revises_it(client, app, auth):
    with app.app_context():
        load_directory(PROTOCOLS)
        patient_id = factories.patient().id
        physio = factories.provider(name="Ana Moreau", disciplines=("physiotherapy",)).id
    desk = auth("front_desk")
    recorded = client.post(f"/desk/patients/{patient_id}/intake", headers=desk, data=intake_form())
    intake_page = client.get(recorded.headers["Location"], headers=desk)
    assert "Red-flag screen clear" in intake_page.text and "Build the plan" in intake_page.text
    # The first day care may start is tomorrow by default, as the schedule's form starts (found in use: a plan
    # built on a Sunday started that day, its proposal the next, a week apart in the plan's weeks).
    with app.app_context():
        from careplan.clinic import service as clinic

        tomorrow = clinic.today() + timedelta(days=1)
    assert f'id="start_date" name="start_date" type="date" value="{tomorrow.isoformat()}"' in intake_page.text
    intake_id = int(recorded.headers["Location"].rsplit("/", 1)[1])
    built = client.post(f"/desk/intakes/{intake_id}/plan", headers=desk, data={"start_date": "2027-03-01"})
    assert built.status_code == 302
    editor = client.get(built.headers["Location"], headers=desk)
    assert "Lumbar radiculopathy, moderate" in editor.text and "Version 1" in editor.text
    plan_id = int(built.headers["Location"].rsplit("/", 1)[1])

    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        form = {"start_date": "2027-03-08", "team-physiotherapy": str(physio), "reason": ""}
        for p, phase in enumerate(plan.phases):
            form[f"phases-{p}-weeks"] = str(phase.weeks)
            for s, line in enumerate(phase.lines):
                for part in ("per_week", "every_weeks", "minutes", "min_gap_days"):
                    form[f"phases-{p}-sessions-{s}-{part}"] = str(getattr(line, part))
        first_weeks = plan.phases[0].weeks
    form["phases-0-sessions-0-minutes"] = "2"
    refused = client.post(f"/desk/plans/{plan_id}", headers=desk, data=form)
    assert refused.status_code == 422
    assert "Phase 1, session line 1, minutes" in refused.text and 'href="#reason"' in refused.text
    form.update({"phases-0-sessions-0-minutes": "50", "phases-0-weeks": str(first_weeks + 1),
                 "phases-0-sessions-1-remove": "on", "team-physiotherapy-required": "on",
                 "reason": "Patient asked for longer physiotherapy."})
    saved = client.post(f"/desk/plans/{plan_id}", headers=desk, data=form)
    assert saved.status_code == 302
    history = client.get(f"/desk/plans/{plan_id}", headers=desk).text
    assert "Version 2" in history and "Patient asked for longer physiotherapy." in history
    assert 'name="team-physiotherapy-required" type="checkbox" checked' in history
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        assert plan.start_date.isoformat() == "2027-03-08"
        assert plan.phases[0].weeks == first_weeks + 1 and plan.phases[0].lines[0].minutes == 50
        assert [(m.discipline_code, m.provider_id, m.required) for m in plan.care_team] == [
            ("physiotherapy", physio, True)]


def test_failed_emails_show_on_the_desk_and_are_sent_again(client, app, auth):
    with app.app_context():
        patient = factories.patient(name="Grace Obi")
        row = OutboundEmail(kind="booking-confirmation", patient_id=patient.id, due_at=utcnow() - timedelta(hours=2),
                            status="failed", attempts=5, recipient=patient.email,
                            last_error="550 5.1.1 mailbox unavailable")
        db.session.add(row)
        db.session.commit()
        email_id = row.id
    desk = auth("front_desk")
    page = client.get("/desk", headers=desk).text
    assert "Grace Obi" in page and "550 5.1.1 mailbox unavailable" in page and "Send again" in page
    assert client.post(f"/desk/emails/{email_id}/retry", headers=desk).status_code == 302
    with app.app_context():
        assert db.session.get(OutboundEmail, email_id).status == "pending"
    assert "Every e-mail went out." in client.get("/desk", headers=desk).text


def test_the_desk_lowers_a_patients_sessions_per_day_on_their_record(client, app, auth):
    from careplan.patients.models import Patient

    with app.app_context():
        patient_id = factories.patient(name="Grace Obi", hours="tue 09:00-14:00").id
    desk = auth("front_desk")
    page = client.get(f"/desk/patients/{patient_id}", headers=desk).text
    assert 'id="max_sessions_per_day" name="max_sessions_per_day" type="number" value=""' in page
    form = {"name": "Grace Obi", "email": "grace.obi@mail.example", "max_sessions_per_day": "2",
            "availability-0-day": "tue", "availability-0-start": "09:00", "availability-0-end": "14:00"}
    assert client.post(f"/desk/patients/{patient_id}", headers=desk, data=form).status_code == 302
    assert 'name="max_sessions_per_day" type="number" value="2"' in client.get(
        f"/desk/patients/{patient_id}", headers=desk).text
    refused = client.post(f"/desk/patients/{patient_id}", headers=desk, data={**form, "max_sessions_per_day": "5"})
    assert refused.status_code == 422 and "at most 3, the clinic&#39;s limit" in refused.text
    with app.app_context():
        assert db.session.get(Patient, patient_id).max_sessions_per_day == 2


def test_an_arrival_names_each_discipline_once_with_its_count(client, app, auth):
    """Found in use: Linh's arrival read "Physiotherapy Physiotherapy" for her two physiotherapy sessions."""
    with app.app_context():
        physio = factories.provider(disciplines=("physiotherapy",), hours="mon-fri 08:00-16:00").id
        masseur = factories.provider(disciplines=("massage",), hours="mon-fri 08:00-16:00").id
        patient = factories.patient(name="Linh Tran", hours="mon-fri 08:00-17:00").id
    desk = auth("front_desk")
    for who, discipline, moment in ((physio, "physiotherapy", "09:00"), (physio, "physiotherapy", "09:45"),
                                    (masseur, "massage", "10:30")):
        answer = client.post("/api/v1/appointments", headers=desk, json={
            "patient_id": patient, "provider_id": who, "discipline": discipline,
            "start": f"2027-03-15T{moment}:00-04:00", "minutes": 45})
        assert answer.status_code == 201, answer.get_json()
    page = client.get("/desk?day=2027-03-15", headers=desk).text
    chips = re.search(r'<span class="arrival__chips">(.*?)</span>\s*</div>', page, re.S).group(1)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", chips)).strip()
    assert text == "Massage therapy Physiotherapy ×2"


def test_todays_arrivals_say_a_waiting_red_flag_a_session_to_move_and_a_video_link_to_give(client, app, auth):
    """Found in use: the desk's Today listed Pierre (red flag waiting) and Linh (her clinician off sick) as any
    other arrival, and a video session without its link as any other."""
    from careplan.clinic import service as clinic
    from careplan.providers.service import add_time_off

    with app.app_context():
        day = clinic.today() + timedelta(days=1)
        ana = factories.provider(name="Ana Moreau", hours="mon-sun 07:00-20:00")
        daniel = factories.provider(name="Daniel Okafor", hours="mon-sun 07:00-20:00", disciplines=("nutrition",))
        pierre, linh = factories.patient(name="Pierre Gagnon"), factories.patient(name="Linh Tran")
        james = factories.patient(name="James O'Neill", accepts_virtual=True)
        ten = clinic.local_datetime(day, datetime.min.time().replace(hour=10))
        factories.appointment(pierre, ana, ten)
        moved = factories.appointment(linh, daniel, ten + timedelta(hours=3), discipline="nutrition")
        video = factories.appointment(james, daniel, ten + timedelta(hours=5), discipline="nutrition", virtual=True)
        add_time_off(daniel.id, {"starts_at": moved.starts_at, "ends_at": moved.ends_at, "reason": "sick"})
        ids = (pierre.id, video.id)
    desk = auth("front_desk")
    client.post(f"/api/v1/patients/{ids[0]}/intakes", headers=desk,
                json=factories.intake_body(red_flags={"fever": True, "unexplained_weight_loss": True}))
    page = client.get(f"/desk?day={day.isoformat()}", headers=desk).text
    arrivals = {re.search(r'class="arrival__name"[^>]*>([^<]+)<', item).group(1): item
                for item in page.split('<li class="arrival">')[1:]}
    assert "Red flag" in arrivals["Pierre Gagnon"] and "Needs a new time" not in arrivals["Pierre Gagnon"]
    assert "Needs a new time" in arrivals["Linh Tran"] and "Red flag" not in arrivals["Linh Tran"]
    assert f'href="/desk/appointments/{ids[1]}">no link yet</a>' in page
    # Linh's session in Daniel's time off says so in Daniel's column too (it is the only one there).
    column = page[page.index('aria-label="Daniel Okafor"'):]
    assert column.index("Needs a new time") < column.index("</section>")


def test_a_clinician_off_sick_is_not_counted_busy_on_todays_figures(client, app, auth):
    """Found in use: Elena off sick all Monday still counted among Today's "clinicians busy"."""
    from careplan.clinic import service as clinic
    from careplan.providers.service import add_time_off

    with app.app_context():
        day = clinic.today() + timedelta(days=1)
        ana = factories.provider(name="Ana Moreau", hours="mon-sun 07:00-20:00")
        elena = factories.provider(name="Elena Petrova", hours="mon-sun 07:00-20:00")
        ten = clinic.local_datetime(day, datetime.min.time().replace(hour=10))
        factories.appointment(factories.patient(name="Pierre Gagnon"), ana, ten)
        factories.appointment(factories.patient(name="Linh Tran"), elena, ten + timedelta(hours=2))
        busy = re.compile(r'figures__number">(\d+)</span> clinicians busy')
        assert busy.search(client.get(f"/desk?day={day.isoformat()}", headers=auth("front_desk")).text).group(1) == "2"
        add_time_off(elena.id, {"starts_at": clinic.local_datetime(day, datetime.min.time()),
                                "ends_at": clinic.local_datetime(day + timedelta(days=1), datetime.min.time()),
                                "reason": "sick"})
    page = client.get(f"/desk?day={day.isoformat()}", headers=auth("front_desk")).text
    assert busy.search(page).group(1) == "1"
    # Her column stays, for the session to move.
    assert 'aria-label="Elena Petrova"' in page and "Needs a new time" in page
