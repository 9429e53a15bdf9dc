"""The issue's Done-when journey in Chromium: the front desk admits a patient, screens them, builds a moderate
lumbar plan, sees the proposal as a calendar and books it; the clinician finds the new patient and writes a
note; the patient sees the appointments and cancels one; a red flag stops at the urgent message."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from careplan.clinic import service as clinic
from careplan.protocols.service import CLINIC_PROTOCOLS as PROTOCOLS
from careplan.extensions import db
from careplan.notes.models import Note
from careplan.patients.models import Patient
from careplan.protocols.service import load_directory
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.conftest import (
    LAPTOP,
    TABLET,
    check_page_basics,
    make_person,
    screenshot,
)

# The clinicians a moderate lumbar plan needs, open long enough for a patient free every weekday.
TEAM = [("Ana Moreau", ("physiotherapy",)), ("Marc Tremblay", ("massage",)), ("Claire Dubois", ("nutrition",)),
        ("Lucas Ferreira", ("kinesiology",)), ("Hugo Bellamy", ("chiropractic",)),
        ("Rachel Goldberg", ("naturopathy",))]


def answer_no_to_every_red_flag(page) -> None:
    for radio in page.locator('.screen input[type=radio][value="no"]').all():
        radio.check()


def test_the_done_when_journey(app, open_as, person, live_server):
    with app.app_context():
        load_directory(PROTOCOLS)
        ids = {name: factories.provider(name=name, disciplines=codes, hours="mon-sat 08:00-20:00").id
               for name, codes in TEAM}
        today = datetime.now(clinic.zone()).date()

    # --- the front desk ------------------------------------------------------------------------------------
    desk = open_as(person("front_desk"))
    # The front desk starts on the clinic calendar; "Today" is one click away.
    expect(desk).to_have_url(re.compile(r"/desk/calendar$"))
    check_page_basics(desk)
    desk.get_by_role("link", name="Today", exact=True).click()
    expect(desk).to_have_url(re.compile(r"/desk$"))
    screenshot(desk, "journey-01-desk-today")

    desk.goto("/desk/patients/new")
    desk.get_by_label("Full name").fill("Nadia Haddad")
    desk.get_by_label("E-mail", exact=True).fill("nadia.haddad@mail.example")
    for _ in range(3):
        desk.get_by_role("button", name="Add another window").click()
    for row, day in enumerate(("mon", "tue", "wed", "thu", "fri")):
        desk.locator(f"#availability-{row}-day").select_option(day)
        desk.locator(f"#availability-{row}-start").fill("09:00")
        desk.locator(f"#availability-{row}-end").fill("18:00")
    desk.get_by_role("button", name="Admit patient").click()
    expect(desk.locator(".flash--success")).to_have_text("Nadia Haddad is admitted.")

    desk.get_by_role("link", name="New intake").click()
    check_page_basics(desk)
    desk.get_by_label("Region of the spine").select_option("lumbar")
    desk.get_by_label("Side").select_option("left")
    desk.get_by_label("Symptoms").fill("low back pain\nsciatica down the left leg")
    desk.get_by_label("Severity as assessed").select_option("moderate")
    answer_no_to_every_red_flag(desk)
    screenshot(desk, "journey-02-intake")
    desk.get_by_role("button", name="Record intake and screen").click()
    expect(desk.locator(".flash--success")).to_contain_text("the red-flag screen is clear")
    desk.get_by_label("First day care may start").fill((today + timedelta(days=7 - today.weekday())).isoformat())
    desk.get_by_role("button", name="Build the plan").click()

    expect(desk.locator("h1")).to_contain_text("Lumbar radiculopathy, moderate")
    check_page_basics(desk)
    desk.get_by_label("Physiotherapy", exact=True).select_option(str(ids["Ana Moreau"]))
    desk.get_by_label("Massage therapy", exact=True).select_option(str(ids["Marc Tremblay"]))
    desk.get_by_label("Reason for this change").fill("Ana and Marc know her from an earlier episode.")
    desk.get_by_role("button", name="Save a new version").click()
    expect(desk.locator(".flash--success")).to_have_text("Plan saved as version 2.")
    expect(desk.locator(".versions li")).to_have_count(2)
    screenshot(desk, "journey-03-plan-editor")

    desk.get_by_role("link", name="Propose a schedule").click()
    desk.get_by_label("Time the optimizer may take").select_option("3")
    desk.get_by_role("button", name="Propose a schedule").click()
    # The solve is a job: its page follows the optimizer, then leads on to the held proposal.
    expect(desk.locator(".hold-banner")).to_be_visible(timeout=30000)
    expect(desk.locator(".flash--success")).to_contain_text("Proposal ready")
    check_page_basics(desk)
    blocks = desk.locator(".plan-calendar .session-block")
    assert blocks.count() > 10
    expect(blocks.first).to_contain_text(re.compile(r"\d\d:\d\d–\d\d:\d\d"))
    expect(desk.locator(".figures-list")).to_contain_text("Sessions placed")
    expect(desk.locator("#unscheduled-title + *")).to_have_text("Every session the plan asks for is placed.")
    screenshot(desk, "journey-04-proposal")
    desk.set_viewport_size(TABLET)
    screenshot(desk, "journey-04-proposal-tablet")
    desk.set_viewport_size(LAPTOP)
    desk.get_by_role("button", name=re.compile(r"^Book \d+ appointments")).click()
    expect(desk.locator(".flash--success")).to_contain_text("Booked:")
    screenshot(desk, "journey-05-booked")
    with app.app_context():
        nadia = db.session.scalar(select(Patient).where(Patient.name == "Nadia Haddad"))
        booked = db.session.scalars(select(Appointment).where(Appointment.patient_id == nadia.id)
                                    .order_by(Appointment.starts_at)).all()
        assert len(booked) == blocks.count()
        nadia_id, first_physio = nadia.id, next(a.id for a in booked if a.provider_id == ids["Ana Moreau"])
        patient_person = make_person("patient", patient_id=nadia_id)

    # --- a red flag stops at the urgent message --------------------------------------------------------------
    desk.goto(f"/desk/patients/{nadia_id}/intake")
    desk.get_by_label("Region of the spine").select_option("lumbar")
    desk.get_by_label("Side").select_option("both")
    desk.get_by_label("Severity as assessed").select_option("severe")
    answer_no_to_every_red_flag(desk)
    desk.locator('#red_flags-loss_of_bladder_or_bowel_control-yes').check()
    desk.get_by_role("button", name="Record intake and screen").click()
    alert = desk.get_by_role("alert")
    expect(alert).to_contain_text("Urgent")
    expect(alert).to_contain_text("Loss of bladder or bowel control")
    expect(desk.get_by_role("button", name="Build the plan")).to_have_count(0)
    check_page_basics(desk)
    screenshot(desk, "journey-06-red-flag")

    # --- the clinician -------------------------------------------------------------------------------------
    clinician = open_as(person("provider", provider_id=ids["Ana Moreau"]))
    clinician.get_by_role("link", name="My patients").click()
    row = clinician.locator("tr", has_text="Nadia Haddad")
    expect(row).to_contain_text("Physiotherapy")
    row.get_by_role("link", name="Nadia Haddad").click()
    check_page_basics(clinician)
    clinician.get_by_label("Subjective").fill("Low back pain 6/10, worse after sitting; tingling in the left foot.")
    clinician.get_by_label("Assessment").fill("L5 radiculopathy, irritable; directional preference for extension.")
    clinician.get_by_label("Plan", exact=True).fill("Extension exercises three times a day; review in a week.")
    clinician.get_by_role("button", name="Save note").click()
    expect(clinician.locator(".flash--success")).to_contain_text("Note saved")
    expect(clinician.locator(".note").first).to_contain_text("directional preference for extension")
    screenshot(clinician, "journey-07-clinician-patient")
    with app.app_context():
        assert db.session.scalar(select(Note.patient_id)) == nadia_id

    # --- the patient ---------------------------------------------------------------------------------------
    patient = open_as(patient_person)
    expect(patient).to_have_url(re.compile(r"/my/appointments$"))
    check_page_basics(patient)
    expect(patient.locator(".visit-card").first).to_contain_text("Physiotherapy")
    screenshot(patient, "journey-08-my-appointments")
    patient.locator(f'a[href="/my/appointments/{first_physio}/cancel"]').click()
    check_page_basics(patient)
    screenshot(patient, "journey-09-cancel")
    patient.get_by_label("Why you cannot come").fill("A work trip that week.")
    patient.get_by_role("button", name="Cancel the appointment").click()
    expect(patient.locator(".flash--success")).to_contain_text("Your appointment is cancelled.")
    expect(patient.locator(f'a[href="/my/appointments/{first_physio}/cancel"]')).to_have_count(0)
    with app.app_context():
        cancelled = db.session.get(Appointment, first_physio)
        assert cancelled.status == "cancelled" and cancelled.cancel_reason == "A work trip that week."
        assert cancelled.starts_at - cancelled.cancelled_at > timedelta(hours=0)
    patient.get_by_role("link", name="My plan").click()
    expect(patient.locator(".plain-phase")).to_have_count(3)
    screenshot(patient, "journey-10-my-plan")
