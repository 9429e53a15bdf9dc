"""Defects found by using the demo clinic as its people do (front desk, clinician, patient), each pinned here
through real HTTP requests to the application."""
from __future__ import annotations

import re
from datetime import timedelta

from careplan.clinic import service as clinic
from careplan.db import utcnow
from tests import factories
from tests.web.conftest import WIDE, csrf_from


def test_a_french_patient_refused_a_staff_page_reads_the_refusal_in_french(app, client, auth):
    with app.app_context():
        patient_id = factories.patient(name="Josée Tremblay", language="fr").id
    me = auth("patient", patient_id=patient_id)
    page = client.get("/desk", headers=me)
    assert page.status_code == 403
    assert '<html lang="fr">' in page.text
    # The sentence naming who is signed in was English on the French page.
    assert "Signed in as" not in page.text and "you cannot open this page" not in page.text
    assert "vous ne pouvez pas ouvrir cette page" in page.text


def test_a_booking_outside_the_hours_names_the_start_and_the_clinician_not_away_from_and_an_id(app, client, auth):
    """The booking form's summary said "Away from: outside provider 2's working hours" (the time-off form's
    label for every field called start, and the clinician's record number) under "check these 2 fields"."""
    with app.app_context():
        ana = factories.provider(name="Ana Moreau", hours="mon-sun 12:00-16:00").id
        martha = factories.patient(name="Martha Kowalski", hours="mon-sun 07:00-21:00").id
        tomorrow = clinic.to_local(utcnow()).date() + timedelta(days=1)
    desk = auth("front_desk")
    form = client.get(f"/desk/appointments/new?provider={ana}&start={tomorrow.isoformat()}T08:30", headers=desk).text
    refused = client.post("/desk/appointments/new", headers=desk, data={
        "csrf_token": csrf_from(form), "provider": ana, "start": f"{tomorrow.isoformat()}T08:30",
        "patient_id": martha, "discipline": "physiotherapy", "minutes": "45", "book": "1"})
    assert refused.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', refused.text, re.S).group(0)
    assert "Away from" not in summary and "provider " not in summary
    assert "Start: outside Ana Moreau&#39;s working hours" in summary
    assert "check this field" in summary


def test_the_time_off_form_still_says_away_from(app, client, auth):
    with app.app_context():
        ana = factories.provider(name="Ana Moreau").id
    admin = auth("admin")
    page = client.get(f"/admin/providers/{ana}", headers=admin).text
    refused = client.post(f"/admin/providers/{ana}/time-off", headers=admin, data={
        "csrf_token": csrf_from(page), "start": "2027-03-10T09:00", "end": "2027-03-09T09:00"})
    assert refused.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', refused.text, re.S).group(0)
    assert "Away from" in summary or "Back at" in summary


def test_arrived_is_offered_only_on_the_appointments_own_day(app, client, auth, clinic_day):
    """Next week's appointment showed "Arrived", whose click only answered "Appointment 18 is not today"."""
    from sqlalchemy import select

    from careplan.extensions import db
    from careplan.scheduling.models import Appointment

    with app.app_context():
        visits = list(db.session.scalars(select(Appointment).where(Appointment.patient_id == clinic_day.martha)
                                         .order_by(Appointment.starts_at)))
        today = [a.id for a in visits if clinic.to_local(a.starts_at).date() == clinic_day.day]
        later = [a.id for a in visits if clinic.to_local(a.starts_at).date() > clinic_day.day]
    desk = auth("front_desk")
    assert 'value="arrived"' in client.get(f"/desk/appointments/{today[0]}", headers=desk).text
    next_week = client.get(f"/desk/appointments/{later[0]}", headers=desk).text
    assert 'value="arrived"' not in next_week and "Find another time" in next_week
    later_day = (clinic_day.day + timedelta(days=7)).isoformat()
    assert 'value="arrived"' not in client.get(f"/desk/calendar?date={later_day}", headers=desk).text


def test_the_week_grid_runs_monday_to_sunday_and_the_day_grid_names_open_the_week(app, person, tab):
    """In Chromium the clinician's week started on the Sunday before its Monday (a day of the previous week,
    while that week's own Sunday was missing), and the day grid's clinician names were plain text: the week
    was out of reach from the calendar the desk works in."""
    from tests.web.conftest import screenshot, sign_in

    with app.app_context():
        ana = factories.provider(name="Ana Moreau", hours="mon-sun 08:00-16:00").id
        today = clinic.to_local(utcnow()).date()
    monday = today - timedelta(days=today.weekday())
    desk = person("front_desk")
    page = tab(WIDE)
    sign_in(page, desk)
    page.goto(f"/desk/calendar?provider={ana}&date={monday.isoformat()}")
    page.locator(".ec-header .ec-col-head").first.wait_for()
    headers = [h.inner_text() for h in page.locator(".ec-header .ec-col-head").all()]
    assert len(headers) == 7
    assert headers[0].startswith("Mon") and headers[-1].startswith("Sun"), headers
    assert str(monday.day) in headers[0] and str((monday + timedelta(days=6)).day) in headers[-1]
    screenshot(page, "found-week-monday-to-sunday")

    page.goto(f"/desk/calendar?date={today.isoformat()}")
    name = page.locator(".ec-header a", has_text="Ana Moreau")
    screenshot(page, "found-day-names-link-to-weeks")
    name.click()
    page.wait_for_url(re.compile(rf"/desk/calendar\?provider={ana}&date={today.isoformat()}$"))
    assert "Ana Moreau, week of" in page.locator("h1").inner_text()


def _active_plan_with_a_psychotherapist(app):
    from careplan.clinic import service as clinic_service

    with app.app_context():
        physio = factories.provider(name="Ana Moreau", hours="mon-sun 07:00-20:00")
        psych = factories.provider(name="Elena Petrova", disciplines=("psychotherapy",), hours="mon-sun 07:00-20:00")
        patient = factories.patient(name="Aisha Mohammed")
        today = clinic_service.to_local(utcnow()).date()
        monday = today - timedelta(days=today.weekday())
        plan = factories.care_plan(patient, {"physiotherapy": physio, "psychotherapy": psych}, start=monday,
                                   status="active",
                                   phases=(("acute", 2, "Calm it", [("physiotherapy", 1, 1, 45)]),
                                           ("subacute", 1, "Rebuild", [("psychotherapy", 1, 1, 50)])))
        return plan.id, patient.id, physio.id, psych.id


def test_a_clinicians_patient_page_speaks_plainly_and_links_only_where_a_clinician_may_go(app, client, auth):
    """"Subacute (1 weeks)", "Adjust the phases of plan 4", and a link to the desk's schedule page that
    answers a clinician with the 403 page."""
    plan_id, patient_id, physio_id, _ = _active_plan_with_a_psychotherapist(app)
    me = auth("provider", provider_id=physio_id)
    page = client.get(f"/me/patients/{patient_id}", headers=me).text
    assert "(1 weeks)" not in page and ">Subacute (1 week)</option>" in page and ">Acute (2 weeks)</option>" in page
    assert f"of plan {plan_id}" not in page and "Adjust the phases" in page
    client.post(f"/me/plans/{plan_id}/phases", headers=me, data={"phase": "acute", "change": "shorten",
                                                                  "weeks": "1", "reason": "Doing well"})
    page = client.get(f"/me/patients/{patient_id}", headers=me).text
    for href in re.findall(r'href="(/[^"#]*)', page):
        assert not href.startswith(("/desk/", "/admin/")), href
    assert client.get(f"/desk/plans/{plan_id}/schedule", headers=me).status_code == 403


def test_saving_a_psychotherapy_note_does_not_say_the_whole_care_team_sees_it(app, client, auth):
    _, patient_id, _, psych_id = _active_plan_with_a_psychotherapist(app)
    me = auth("provider", provider_id=psych_id)
    saved = client.post(f"/me/patients/{patient_id}", headers=me, data={"subjective": "Sleeps 4 hours."},
                        follow_redirects=True)
    assert saved.status_code == 200
    assert "the care team sees it now" not in saved.text
    assert "Note saved; the psychotherapy clinicians on the care team see it now." in saved.text
    team = client.post(f"/me/patients/{patient_id}", headers=me,
                       data={"subjective": "Agreed a sleep diary.", "visibility": "team"}, follow_redirects=True)
    assert "Note saved; the care team sees it now." in team.text
    mine = client.post(f"/me/patients/{patient_id}", headers=me,
                       data={"subjective": "A private thought.", "visibility": "author"}, follow_redirects=True)
    assert "Note saved; only you see it." in mine.text


def test_the_desks_day_with_nothing_flagged_does_not_repeat_its_heading_as_a_link(client, auth):
    """"Every booked appointment is inside its clinician's hours. Appointments needing attention", the second
    half a link to an empty list under a heading of the same words."""
    page = client.get("/desk", headers=auth("front_desk")).text
    panel = re.search(r'<section[^>]*id="needing-attention".*?</section>', page, re.S).group(0)
    assert "Every booked appointment is inside its clinician" in panel
    assert panel.count("Appointments needing attention") == 1


def test_a_refused_room_names_its_location_field_as_the_form_does(client, auth):
    """The summary said "Location id: Required." beside a field labelled "Location"."""
    admin = auth("admin")
    page = client.get("/admin/locations", headers=admin).text
    # The room form is offered once a location exists (before, the page explains that one is needed).
    added = client.post("/admin/locations", headers=admin, data={"csrf_token": csrf_from(page), "name": "King West"})
    assert added.status_code in (200, 302, 303)
    page = client.get("/admin/locations", headers=admin).text
    refused = client.post("/admin/rooms", headers=admin, data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', refused.text, re.S).group(0)
    assert "Location id" not in summary and ">Location: " in summary


def test_a_room_refused_while_no_location_is_open_says_why(client, auth):
    admin = auth("admin")
    page = client.get("/admin/locations", headers=admin).text
    refused = client.post("/admin/rooms", headers=admin, data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', refused.text, re.S).group(0)
    assert ">Location: " in summary


def test_moving_a_single_visit_does_not_speak_of_a_plan_it_is_not_in(app, client, auth):
    """"These times keep your plan on track: the same week of your plan" over the alternatives of a visit
    booked outside any plan (and so in French)."""
    with app.app_context():
        ana = factories.provider(name="Ana Moreau", hours="mon-sun 08:00-18:00")
        single = factories.patient(name="Martha Kowalski", hours="mon-sun 08:00-18:00")
        french = factories.patient(name="Josée Tremblay", hours="mon-sun 08:00-18:00", language="fr")
        start = clinic.to_local(utcnow() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
        visits = {p.id: factories.appointment(p, ana, start + timedelta(hours=2 * n)).id
                  for n, p in enumerate((single, french))}
        assert all(a is not None for a in visits)
    for patient_id, visit_id in visits.items():
        page = client.get(f"/my/appointments/{visit_id}/move", headers=auth("patient", patient_id=patient_id)).text
        assert 'class="alternative"' in page, page
        assert "your plan" not in page and "votre plan" not in page
    english, french_page = (client.get(f"/my/appointments/{v}/move", headers=auth("patient", patient_id=p)).text
                            for p, v in visits.items())
    assert "These times keep to the same week" in english
    assert "Ces heures restent dans la même semaine" in french_page


def test_todays_grid_is_not_tinted_the_yellow_the_legend_gives_held_slots(app, person, tab):
    """EventCalendar's own pale-yellow "today" background filled the whole day grid, the colour the legend
    above it says marks slots held for a proposal."""
    from tests.web.conftest import sign_in

    with app.app_context():
        factories.provider(name="Ana Moreau", hours="mon-sun 08:00-16:00")
    page = tab(WIDE)
    sign_in(page, person("front_desk"))
    page.goto("/desk/calendar")
    today = page.locator(".ec-body .ec-today").first
    today.wait_for()
    colour = today.evaluate("el => getComputedStyle(el).backgroundColor")
    channels = [float(c) for c in re.findall(r"[\d.]+", colour)]
    transparent = len(channels) == 4 and channels[3] == 0
    assert transparent or abs(channels[0] - channels[2]) < 10, colour


def test_a_clinicians_day_keeps_the_red_flags_panel_apart_from_the_first_session(app, client, auth, person, tab):
    """On "My day" the red flags waiting sat flush against the first appointment card, no gap between."""
    from tests.web.conftest import at, sign_in

    with app.app_context():
        ana = factories.provider(name="Ana Moreau", hours="mon-sun 00:00-23:45")
        martha = factories.patient(name="Martha Kowalski", hours="mon-sun 00:00-23:45")
        pierre = factories.patient(name="Pierre Gagnon").id
        today = clinic.to_local(utcnow()).date()
        factories.appointment(martha, ana, at(today, "23:00"))
        ana_id = ana.id
    flagged = client.post(f"/api/v1/patients/{pierre}/intakes", headers=auth("front_desk"),
                          json=factories.intake_body(red_flags={"fever": True}))
    assert flagged.status_code == 422
    page = tab(WIDE)
    sign_in(page, person("provider", provider_id=ana_id))
    page.goto("/me/day")
    panel = page.locator("section[aria-labelledby='red-flags-title']").bounding_box()
    first = page.locator(".agenda__item").first.bounding_box()
    assert first["y"] - (panel["y"] + panel["height"]) >= 12
