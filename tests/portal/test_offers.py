"""Earlier-slot offers: requests, a cancellation offering its time to the few it fits best, the first accept
wins (also two at the same moment over HTTP, on PostgreSQL through gunicorn's processes), the others are told
it is gone, offers expire, and nothing moves without the patient's yes."""
from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from datetime import datetime, time, timedelta

from sqlalchemy import select

from careplan.caller import Caller
from careplan.clinic import service as clinic
from careplan.errors import Conflict
from careplan.extensions import db
from careplan.portal import offers
from careplan.portal.models import SlotOffer
from careplan.reminders import dispatch
from careplan.reminders.models import OutboundEmail
from careplan.scheduling.models import Appointment
from tests import factories
from tests.scheduling.test_concurrency import live_server  # noqa: F401  (gunicorn on PostgreSQL, threads on SQLite)
from tests.conftest import ON_POSTGRES
from tests.web.conftest import book


def _waiting_list(app, client, auth):
    """Ana's Tuesday 10:00 (Dora's) is about to be freed. Four patients wait for an earlier physiotherapy
    session that week: three with Ana (Friday), one with Ben; Pia waits for massage, which does not fit."""
    with app.app_context():
        today = datetime.now(clinic.zone()).date()
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=2)
        zone = clinic.zone()
        at = lambda days, hhmm: datetime.combine(monday + timedelta(days=days), time.fromisoformat(hhmm),  # noqa: E731
                                                 tzinfo=zone)
        ana = factories.provider(name="Ana Moreau")
        ben = factories.provider(name="Ben Okafor")
        marc = factories.provider(name="Marc Tremblay", disciplines=("massage",))
        dora = factories.patient(name="Dora").id
        freed = book(dora, ana.id, "physiotherapy", at(1, "10:00")).id
        waiting = {}
        for name, who, hhmm in (("Alma", ana, "09:00"), ("Bert", ana, "10:00"), ("Cleo", ana, "11:00"),
                                ("Eli", ben, "09:00")):
            patient = factories.patient(name=name).id
            waiting[name] = (patient, book(patient, who.id, "physiotherapy", at(4, hhmm)).id)
        pia = factories.patient(name="Pia").id
        waiting["Pia"] = (pia, book(pia, marc.id, "massage", at(4, "13:00"), 60).id)
        ana_id = ana.id
    for name, (patient, session) in waiting.items():
        asked = client.post(f"/api/v1/me/appointments/{session}/earlier-slot-request",
                            headers=auth("patient", patient_id=patient))
        assert asked.status_code == 201 and asked.json["status"] == "open", asked.json
    return freed, waiting, at, ana_id


def _cancel(client, auth, appointment_id):
    answer = client.patch(f"/api/v1/appointments/{appointment_id}", headers=auth("front_desk"),
                          json={"status": "cancelled", "reason": "Dora is away"})
    assert answer.status_code == 200, answer.json


def _offer_links(app, smtp) -> dict[str, str]:
    with app.app_context():
        dispatch.dispatch_due()
    links = {}
    for message in smtp.inbox.messages:
        if message["X-Careplan-Kind"] == "slot-offer":
            text = message.get_body(("plain",)).get_content()
            links[message["To"].addresses[0].display_name] = re.search(
                r"Take the earlier time: \S+?(/api/v1/slot-offers/\S+)", text).group(1)
    return links


def test_a_cancellation_offers_its_time_and_the_first_yes_gets_it(app, client, auth, smtp):
    freed, waiting, at, ana = _waiting_list(app, client, auth)
    # Asking again keeps the first request.
    again = client.post(f"/api/v1/me/appointments/{waiting['Alma'][1]}/earlier-slot-request",
                        headers=auth("patient", patient_id=waiting["Alma"][0]))
    assert again.status_code == 201
    _cancel(client, auth, freed)
    links = _offer_links(app, smtp)
    # Three at a time, those already treated by Ana first; massage does not fit a physiotherapy time.
    assert sorted(links) == ["Alma", "Bert", "Cleo"]
    # The desk's page of the freed slot says whom it was offered to (found in use: it said nobody).
    backfill = client.get(f"/desk/appointments/{freed}/backfill", headers=auth("front_desk")).text
    offered = backfill[backfill.index('id="offers-title"'):backfill.index("</section>", backfill.index('id="offers-title"'))]
    assert [name for name in ("Alma", "Bert", "Cleo") if f">{name}</a> · open until" in offered] == ["Alma", "Bert", "Cleo"]
    offer_mail = next(m for m in smtp.inbox.messages if m["X-Careplan-Kind"] == "slot-offer")
    assert "with Ana Moreau" in offer_mail.get_body(("plain",)).get_content()
    assert not [p for p in offer_mail.walk() if p.get_content_type() == "text/calendar"]
    with app.app_context():
        # Nothing moved yet.
        assert db.session.get(Appointment, waiting["Alma"][1]).starts_at == at(4, "09:00")

    page = client.get(links["Bert"])
    assert page.status_code == 200 and "Take the earlier time" in page.text
    taken = client.post(links["Bert"])
    assert taken.status_code == 200 and "Done: your session is now on" in taken.text
    for late in ("Alma", "Cleo"):
        refused = client.post(links[late])
        assert refused.status_code == 409 and "gone to another patient" in refused.text
    assert "You have taken this time already." in client.get(links["Bert"]).text
    backfill = client.get(f"/desk/appointments/{freed}/backfill", headers=auth("front_desk")).text
    assert ">Bert</a> · took it" in backfill and ">Alma</a> · no longer open" in backfill
    with app.app_context():
        bert = db.session.get(Appointment, waiting["Bert"][1])
        assert bert.starts_at == at(1, "10:00") and bert.provider_id == ana and bert.sequence == 1
        assert db.session.get(Appointment, waiting["Alma"][1]).starts_at == at(4, "09:00")
        statuses = sorted(db.session.scalars(select(SlotOffer.status)).all())
        assert statuses == ["accepted", "gone", "gone"]
        gone = db.session.scalars(select(OutboundEmail).where(OutboundEmail.kind == "slot-gone")).all()
        assert sorted(row.patient.name for row in gone) == ["Alma", "Cleo"]
        dispatch.dispatch_due()
    told = [m for m in smtp.inbox.messages if m["X-Careplan-Kind"] == "slot-gone"]
    assert len(told) == 2 and "has gone to another patient" in told[0].get_body(("plain",)).get_content()


def test_an_offer_expires(app, client, auth, smtp):
    freed, waiting, at, ana = _waiting_list(app, client, auth)
    _cancel(client, auth, freed)
    with app.app_context():
        offer = db.session.scalars(select(SlotOffer).order_by(SlotOffer.id)).first()
        token, expires = offers.offer_token(offer), offer.expires_at
        assert expires <= at(1, "10:00")
        try:
            offers.accept_offer(Caller.system("web"), token, now=expires)
        except Conflict as refused:
            assert "expired" in refused.message
        else:
            raise AssertionError("an expired offer was accepted")
        db.session.rollback()
        assert db.session.get(Appointment, offer.request.appointment_id).sequence == 0


def test_two_patients_accept_the_same_time_at_once_and_exactly_one_gets_it(app, client, auth, smtp, live_server):
    base, server = live_server
    assert server == ("gunicorn" if ON_POSTGRES else "threaded")
    freed, waiting, at, ana = _waiting_list(app, client, auth)
    _cancel(client, auth, freed)
    links = _offer_links(app, smtp)
    takers = ["Alma", "Bert", "Cleo"]
    barrier = threading.Barrier(len(takers))
    answers = {}

    def accept(name: str) -> None:
        request = urllib.request.Request(base + links[name], data=b"", method="POST")
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers[name] = response.status
        except urllib.error.HTTPError as refused:
            answers[name] = refused.code

    threads = [threading.Thread(target=accept, args=(name,)) for name in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) == [200, 409, 409], (server, answers)
    winner = next(name for name, status in answers.items() if status == 200)
    with app.app_context():
        at_the_time = db.session.scalars(select(Appointment).where(
            Appointment.provider_id == ana, Appointment.starts_at == at(1, "10:00"),
            Appointment.status != "cancelled")).all()
        assert [a.id for a in at_the_time] == [waiting[winner][1]]
        assert sorted(db.session.scalars(select(SlotOffer.status)).all()) == ["accepted", "gone", "gone"]


def test_the_portal_asks_for_an_earlier_time(app, client, auth):
    with app.app_context():
        week = factories.plan_week()
    me = auth("patient", patient_id=week["patient"])
    asking = lambda page: page.count("Earlier?") + page.count("Start sooner?")  # noqa: E731
    first = client.get("/my/appointments", headers=me).text
    # The plan waits to start: its first session offers to start sooner, the others an earlier time.
    assert asking(first) == 3 and first.count("Start sooner?") == 1
    assert client.post(f"/my/appointments/{week['moving']}/earlier", headers=me).status_code == 302
    page = client.get("/my/appointments", headers=me).text
    assert "We will e-mail you if an earlier time opens" in page and page.count("Waiting for an earlier time") == 1
    assert asking(page) == 2
    with app.app_context():
        assert offers.open_requests(week["patient"]) == {week["moving"]}


def test_the_first_session_of_a_plan_waiting_to_start_takes_a_time_weeks_earlier(app, client, auth, smtp):
    """Fay's plan starts in three weeks; she asks to start sooner from its first session. A physiotherapy time
    freed in a week from now is offered to her (any earlier week fits a plan's opening session), but not to
    her second session (its plan week only) nor to Gus, whose plan has begun already."""
    with app.app_context():
        zone = clinic.zone()
        today = datetime.now(zone).date()
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        at = lambda weeks, days, hhmm: datetime.combine(  # noqa: E731
            monday + timedelta(weeks=weeks, days=days), time.fromisoformat(hhmm), tzinfo=zone)
        ana = factories.provider(name="Ana Moreau")
        freed = book(factories.patient(name="Dora").id, ana.id, "physiotherapy", at(0, 1, "10:00")).id
        fay, gus = factories.patient(name="Fay"), factories.patient(name="Gus")
        waiting = factories.care_plan(fay, {"physiotherapy": ana}, start=monday + timedelta(weeks=2))
        begun = factories.care_plan(gus, {"physiotherapy": ana}, start=monday - timedelta(weeks=1), status="active")
        first = book(fay.id, ana.id, "physiotherapy", at(2, 0, "09:00"), plan_id=waiting.id, plan_week=0,
                     phase_name="acute").id
        second = book(fay.id, ana.id, "physiotherapy", at(2, 3, "09:00"), plan_id=waiting.id, plan_week=0,
                      phase_name="acute").id
        book(gus.id, ana.id, "physiotherapy", at(-1, 1, "09:00"), plan_id=begun.id, plan_week=0,
             phase_name="acute", status="completed")
        gus_next = book(gus.id, ana.id, "physiotherapy", at(2, 1, "09:00"), plan_id=begun.id, plan_week=3,
                        phase_name="acute").id
        fay_id, gus_id = fay.id, gus.id
    fay_headers = auth("patient", patient_id=fay_id)
    portal = client.get("/my/appointments", headers=fay_headers).text
    assert portal.count("Start sooner?") == 1 and f'action="/my/appointments/{first}/earlier"' in portal
    asked = client.post(f"/api/v1/me/appointments/{first}/earlier-slot-request", headers=fay_headers)
    assert asked.status_code == 201 and asked.json["starts_plan_sooner"] is True
    later = client.post(f"/api/v1/me/appointments/{second}/earlier-slot-request", headers=fay_headers)
    assert later.status_code == 201 and later.json["starts_plan_sooner"] is False
    other = client.post(f"/api/v1/me/appointments/{gus_next}/earlier-slot-request",
                        headers=auth("patient", patient_id=gus_id))
    assert other.status_code == 201 and other.json["starts_plan_sooner"] is False

    _cancel(client, auth, freed)
    links = _offer_links(app, smtp)
    assert sorted(links) == ["Fay"]
    with app.app_context():
        assert [o.request.appointment_id for o in db.session.scalars(select(SlotOffer))] == [first]
    taken = client.post(links["Fay"])
    assert taken.status_code == 200 and "Done: your session is now on" in taken.text
    with app.app_context():
        moved = db.session.get(Appointment, first)
        assert moved.starts_at == at(0, 1, "10:00") and moved.plan_id is not None
        # The rest of the plan stays where it was booked.
        assert db.session.get(Appointment, second).starts_at == at(2, 3, "09:00")


def test_an_offer_page_is_a_read_of_the_patients_session_on_the_trail(app, client, auth):
    from careplan.audit.service import who_saw

    freed, waiting, at, ana = _waiting_list(app, client, auth)
    _cancel(client, auth, freed)
    with app.app_context():
        first, second = db.session.scalars(select(SlotOffer).order_by(SlotOffer.id)).all()[:2]
        links = {offer.request.patient_id: offers.offer_token(offer) for offer in (first, second)}
    (taker, token), (late, late_token) = links.items()
    assert client.get(f"/api/v1/slot-offers/{token}").status_code == 200
    assert client.post(f"/api/v1/slot-offers/{token}").status_code == 200
    # The second patient's page answers 409 (gone): it showed their session all the same.
    assert client.post(f"/api/v1/slot-offers/{late_token}").status_code == 409
    with app.app_context():
        for patient in (taker, late):
            reads = [e for e in who_saw(patient) if e.action == "read" and e.resource == "appointment"]
            assert any("offer" in e.detail and "link page" in e.detail for e in reads), patient
