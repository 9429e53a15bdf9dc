"""A patient helps themselves in Chromium: moves a session from the reminder to a time that keeps their visit day
(and sees it in the portal and the calendar feed), confirms a week at once, and reads it all in French."""
from __future__ import annotations

import re
from datetime import timedelta

from icalendar import Calendar
from playwright.sync_api import expect

from careplan.db import utcnow
from careplan.extensions import db
from careplan.reminders import dispatch, service
from careplan.scheduling.models import Appointment
from tests import factories
from tests.mail.conftest import smtp  # noqa: F401  (the loopback SMTP server fixture)
from tests.web.conftest import LAPTOP, check_page_basics, screenshot


def _reminder_of(app, smtp, appointment_id: int):
    with app.app_context():
        visit = db.session.get(Appointment, appointment_id)
        service.schedule_reminders(visit, now=utcnow() - timedelta(days=30))
        db.session.commit()
        assert dispatch.dispatch_due(due_before=visit.starts_at - timedelta(hours=24)).sent
    return smtp.inbox.messages[-1]


def _link(message, label: str) -> str:
    """The path of a link in the e-mail's text (the live server answers it, wherever PUBLIC_BASE_URL points)."""
    text = message.get_body(("plain",)).get_content()
    # French puts a space before the colon.
    return re.search(re.escape(label) + r" ?: \S+?(/api/v1/(?:appointment-links|slot-offers)/\S+)", text).group(1)


def test_a_patient_moves_a_session_from_the_reminder_and_keeps_their_visit_day(app, client, auth, browser, live_server,
                                                                               open_as, person, smtp):
    with app.app_context():
        week = factories.plan_week()
    feed_url = client.post(f"/api/v1/patients/{week['patient']}/calendar-feed",
                           headers=auth("patient", patient_id=week["patient"])).json["url"]
    move = _link(_reminder_of(app, smtp, week["moving"]), "I can't make it: show me other times")

    # From the e-mail, without signing in.
    context = browser.new_context(base_url=live_server, viewport=LAPTOP, locale="en-CA")
    page = context.new_page()
    page.goto(move)
    check_page_basics(page)
    options = page.locator(".alternative")
    expect(options.first).to_contain_text(f"{week['at'](2, '11:15'):%A} {week['at'](2, '11:15').day}")
    expect(options.first).to_contain_text("11:15")
    expect(options.first).to_contain_text("on a day you already come in")
    expect(options.first).to_contain_text("your clinician")
    screenshot(page, "my-move-alternatives")
    options.first.get_by_role("button", name=re.compile("Move it here")).click()
    expect(page.locator("main")).to_contain_text("Done: your session is now on")
    context.close()

    # In the portal: Wednesday is one trip now, massage then physiotherapy.
    portal = open_as(person("patient", patient_id=week["patient"]))
    portal.goto("/my/appointments")
    wednesday = portal.locator(".visit-card", has_text=f"{week['at'](2, '10:00'):%A} {week['at'](2, '10:00').day}")
    expect(wednesday.locator(".visit-card__session")).to_have_count(2)
    expect(wednesday).to_contain_text("10:00 – 12:00")
    expect(portal.locator(".visit-card")).to_have_count(2)
    screenshot(portal, "my-appointments-after-move")

    # And in the calendar feed, same event (UID), new time, next SEQUENCE.
    feed = portal.request.get("/calendar/" + feed_url.rsplit("/calendar/", 1)[1])
    assert feed.ok
    events = {str(e["UID"]): e for e in Calendar.from_ical(feed.body()).walk("VEVENT")}
    moved = events[f"appointment-{week['moving']}@careplan"]
    assert moved.decoded("DTSTART") == week["at"](2, "11:15") and int(moved["SEQUENCE"]) == 1


def test_a_patient_confirms_a_week_at_once(app, open_as, person):
    with app.app_context():
        week = factories.plan_week()
        later = factories.plan_week(weeks_ahead=3)
        # The same patient's following week, from the second set of sessions.
        db.session.execute(db.update(Appointment).where(Appointment.id.in_(later["sessions"]))
                           .values(patient_id=week["patient"]))
        db.session.commit()
    page = open_as(person("patient", patient_id=week["patient"]))
    page.goto("/my/appointments")
    check_page_basics(page)
    weeks = page.locator(".week-group")
    expect(weeks).to_have_count(2)
    expect(weeks.first.get_by_role("button", name=re.compile("^Confirm", re.I))).to_have_count(4)
    weeks.first.get_by_role("button", name=re.compile("Confirm this week")).click()
    expect(page.locator(".flash--success")).to_have_text("Thank you: 3 sessions confirmed.")
    expect(weeks.first.locator(".badge--confirmed")).to_have_count(3)
    expect(weeks.last.locator(".badge--confirmed")).to_have_count(0)
    expect(weeks.last.get_by_role("button", name=re.compile("Confirm this week"))).to_be_visible()
    screenshot(page, "my-appointments-week-confirmed")
    page.get_by_role("button", name="Confirm all upcoming").click()
    expect(page.locator(".badge--confirmed")).to_have_count(6)
    expect(page.get_by_role("button", name="Confirm all upcoming")).to_have_count(0)


def test_a_french_patient_reads_the_portal_the_plan_and_the_reminder_page_in_french(app, browser, live_server,
                                                                                    open_as, person, smtp):
    with app.app_context():
        week = factories.plan_week(language="fr")
    message = _reminder_of(app, smtp, week["moving"])
    assert message["Subject"].startswith("Rappel : ")
    page = open_as(person("patient", patient_id=week["patient"]))
    page.goto("/my/appointments")
    check_page_basics(page)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text("Mes rendez-vous")
    expect(page.get_by_role("button", name="Tout confirmer")).to_be_visible()
    expect(page.locator(".week-group h2").first).to_contain_text(re.compile(r"Semaine du lundi \d+ \S+ \d{4}"))
    expect(page.locator(".visit-card").first).to_contain_text("avec Ana Moreau, physiothérapeute")
    screenshot(page, "my-appointments-fr")
    page.get_by_role("link", name="Mon plan").click()
    expect(page.locator("h1")).to_have_text("Mon plan de soins")
    expect(page.locator(".plain-phase").first).to_contain_text("deux fois par semaine, 45 minutes chaque fois")
    page.goto(_link(message, "Je ne peux pas venir : montrez-moi d'autres heures"))
    expect(page.locator("h1")).to_have_text("Vous ne pouvez pas venir ? Choisissez une autre heure")
    expect(page.locator(".alternative").first).to_contain_text("un jour où vous venez déjà")
    screenshot(page, "my-move-fr")


def test_two_patients_open_the_same_earlier_time_and_only_the_first_yes_gets_it(app, client, auth, browser,
                                                                                live_server, smtp):
    with app.app_context():
        week = factories.plan_week()
        # A second patient with a later physiotherapy session with Ana that week.
        other = factories.patient(name="Bert Lang").id
        later = db.session.get(Appointment, week["moving"])
        bert_session = Appointment(patient_id=other, provider_id=week["ana"], discipline_code="physiotherapy",
                                   starts_at=later.starts_at + timedelta(hours=2),
                                   ends_at=later.ends_at + timedelta(hours=2))
        # Carla's Tuesday 10:00 with Ana, which she is about to cancel.
        carla = Appointment(patient_id=factories.patient(name="Carla").id, provider_id=week["ana"],
                            discipline_code="physiotherapy", starts_at=week["at"](1, "10:00"),
                            ends_at=week["at"](1, "10:45"))
        db.session.add_all([bert_session, carla])
        db.session.commit()
        sessions, freed = {week["patient"]: week["moving"], other: bert_session.id}, carla.id
    for patient, session in sessions.items():
        assert client.post(f"/api/v1/me/appointments/{session}/earlier-slot-request",
                           headers=auth("patient", patient_id=patient)).status_code == 201
    # Carla cancels at the desk: her time goes to both by e-mail.
    assert client.patch(f"/api/v1/appointments/{freed}", headers=auth("front_desk"),
                        json={"status": "cancelled", "reason": "moved"}).status_code == 200
    with app.app_context():
        dispatch.dispatch_due()
    links = [_link(m, "Take the earlier time") for m in smtp.inbox.messages if m["X-Careplan-Kind"] == "slot-offer"]
    assert len(links) == 2
    tabs = []
    for link in links:
        context = browser.new_context(base_url=live_server, viewport=LAPTOP, locale="en-CA")
        tab = context.new_page()
        tab.goto(link)
        expect(tab.get_by_role("button", name="Take the earlier time")).to_be_visible()
        tabs.append((context, tab))
    # Both have the offer open; the first to press gets it, the second is told it is gone.
    tabs[0][1].get_by_role("button", name="Take the earlier time").click()
    expect(tabs[0][1].locator("main")).to_contain_text("Done: your session is now on")
    tabs[1][1].get_by_role("button", name="Take the earlier time").click()
    expect(tabs[1][1].locator("main")).to_contain_text("Sorry, this time has gone to another patient.")
    screenshot(tabs[1][1], "slot-offer-gone")
    for context, _tab in tabs:
        context.close()
    with app.app_context():
        taken = db.session.scalars(db.select(Appointment).where(
            Appointment.starts_at == week["at"](1, "10:00"), Appointment.status != "cancelled")).all()
        assert len(taken) == 1 and taken[0].id in sessions.values()
