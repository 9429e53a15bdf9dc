"""'I can't make it': the best alternatives for one session, keeping the plan's rules, and an atomic move."""
from __future__ import annotations

import re

from collections import Counter
from datetime import datetime, time, timedelta

from sqlalchemy import select

from careplan.audit.models import AuditEvent
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.extensions import db
from careplan.reminders.links import link_url
from careplan.reminders.models import OutboundEmail
from careplan.scheduling.models import Appointment
from tests import factories
from tests.conftest import ON_POSTGRES
from tests.scheduling.test_concurrency import live_server  # noqa: F401  (gunicorn on PostgreSQL, threads on SQLite)
from tests.web.conftest import book


def _week(app):
    with app.app_context():
        return factories.plan_week()


def test_the_alternatives_keep_the_visit_day_the_week_and_the_spacing(client, app, auth):
    week = _week(app)
    me = auth("patient", patient_id=week["patient"])
    answer = client.get(f"/api/v1/me/appointments/{week['moving']}/alternatives", headers=me)
    assert answer.status_code == 200, answer.json
    assert answer.json["late"] is False
    options = answer.json["alternatives"]
    assert 1 <= len(options) <= 4
    best = options[0]
    # Joining Wednesday's massage saves a trip, with her own physiotherapist, right after the massage.
    wednesday = week["monday"] + timedelta(days=2)
    assert best["start"] == week["at"](2, "11:15").isoformat()
    assert best["provider_id"] == week["ana"] and best["same_clinician"] and best["joins_a_visit"]
    assert best["extra_trips"] == -1
    for option in options:
        start = datetime.fromisoformat(option["start"])
        # The same plan week, never the day of the other physiotherapy session (spacing), inside her hours.
        assert week["monday"] <= start.date() < week["monday"] + timedelta(days=7)
        assert start.date() != week["monday"]
        assert time(9) <= start.time() and start.time() <= time(16, 15)
    assert [o["start"][:10] for o in options[:2]] == [wednesday.isoformat()] * 2
    # A few real choices: not four quarter-hours of one morning.
    assert max(Counter(o["start"][:10] for o in options).values()) == 2 and len(options) == 4

    moved = client.post(f"/api/v1/me/appointments/{week['moving']}/move", headers=me,
                        json={"provider_id": best["provider_id"], "start": best["start"], "sequence": 0})
    assert moved.status_code == 200, moved.json
    assert moved.json["start"] == best["start"] and moved.json["sequence"] == 1 and moved.json["status"] == "booked"
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.resource == "appointment", AuditEvent.resource_id == str(week["moving"]),
            AuditEvent.action == "update")).all()
        assert event.role == "patient" and event.detail.startswith("moved by the patient (api): ")
        assert db.session.scalar(select(OutboundEmail).where(OutboundEmail.kind == "reschedule")) is not None


def test_a_taken_time_answers_fresh_alternatives_and_moves_nothing(client, app, auth):
    week = _week(app)
    me = auth("patient", patient_id=week["patient"])
    best = client.get(f"/api/v1/me/appointments/{week['moving']}/alternatives", headers=me).json["alternatives"][0]
    with app.app_context():
        # Another patient gets Ana's Wednesday 11:15 first.
        book(factories.patient().id, week["ana"], "physiotherapy", datetime.fromisoformat(best["start"]))
    taken = client.post(f"/api/v1/me/appointments/{week['moving']}/move", headers=me,
                        json={"provider_id": best["provider_id"], "start": best["start"], "sequence": 0})
    assert taken.status_code == 409 and taken.json["error"]["code"] == "conflict"
    fresh = taken.json["error"]["alternatives"]
    assert fresh and all((o["provider_id"], o["start"]) != (best["provider_id"], best["start"]) for o in fresh)
    with app.app_context():
        unchanged = db.session.get(Appointment, week["moving"])
        assert unchanged.sequence == 0 and unchanged.starts_at == week["at"](3, "10:00")
    # A page read before a change of the appointment is refused too.
    stale = client.post(f"/api/v1/me/appointments/{week['moving']}/move", headers=me,
                        json={"provider_id": fresh[0]["provider_id"], "start": fresh[0]["start"], "sequence": 5})
    assert stale.status_code == 409 and "sequence" in stale.json["error"]["fields"]


def test_inside_the_late_window_the_patient_is_told_to_call_and_nothing_moves(client, app, auth):
    with app.app_context():
        physio = factories.provider(hours="mon-sun 00:00-23:45")
        patient = factories.patient(hours=None)
        soon = book(patient.id, physio.id, "physiotherapy",
                    (utcnow() + timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)).id
        starts = db.session.get(Appointment, soon).starts_at
        other = book(factories.patient().id, physio.id, "physiotherapy", starts + timedelta(days=3)).id
        patient_id, physio_id = patient.id, physio.id
    me = auth("patient", patient_id=patient_id)
    answer = client.get(f"/api/v1/me/appointments/{soon}/alternatives", headers=me).json
    assert answer["late"] is True and answer["alternatives"] == []
    refused = client.post(f"/api/v1/me/appointments/{soon}/move", headers=me,
                          json={"provider_id": physio_id, "start": (starts + timedelta(hours=2)).isoformat(),
                                "sequence": 0})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "too_late"
    page = client.get(f"/my/appointments/{soon}/move", headers=me).text
    assert "cannot be moved online" in page and "Move it here" not in page
    with app.app_context():
        assert db.session.get(Appointment, soon).starts_at == starts
    # Another patient's session cannot even be looked at.
    assert client.get(f"/api/v1/me/appointments/{other}/alternatives", headers=me).status_code == 404
    assert client.get(f"/my/appointments/{other}/move", headers=me).status_code == 404


def test_the_portal_and_the_reminder_link_move_a_session(client, app, auth):
    week = _week(app)
    me = auth("patient", patient_id=week["patient"])
    page = client.get(f"/my/appointments/{week['moving']}/move", headers=me).text
    assert "Move it here" in page and "on a day you already come in" in page
    wednesday_late = week["at"](2, "11:15").isoformat()
    done = client.post(f"/my/appointments/{week['moving']}/move", headers=me,
                       data={"provider_id": week["ana"], "start": wednesday_late, "sequence": 0})
    assert done.status_code == 302
    assert "Done: your session is now on" in client.get("/my/appointments", headers=me).text

    with app.app_context():
        # The Monday session, from its reminder's link (no sign-in).
        monday = db.session.scalar(select(Appointment).where(Appointment.patient_id == week["patient"],
                                                             Appointment.starts_at == week["at"](0, "10:00")))
        link = link_url(monday, "move").split("127.0.0.1:5000", 1)[1]
        monday_id = monday.id
    page = client.get(link).text
    assert 'id="move-title">Can' in page and "Move it here" in page, page
    start = week["at"](1, "10:00").isoformat()
    done = client.post(link, data={"provider_id": week["ana"], "start": start, "sequence": 0})
    assert done.status_code == 200 and "Done: your session is now on" in done.text
    assert 'id="link-title">Move your appointment</h1>' in done.text
    with app.app_context():
        assert db.session.get(Appointment, monday_id).starts_at == week["at"](1, "10:00")
    # The link was for the session as it was: it has moved, so the link is spent.
    assert "has changed since this e-mail was sent" in client.get(link).text
    # The front desk sees who moved what, from where.
    record = client.get(f"/desk/patients/{week['patient']}", headers=auth("front_desk")).text
    moves = record.split("Moved by the patient</h3>")[1].split("</ul>")[0]
    # In the clinic's words: from when (and with whom) to when, how, and when the patient did it; no trail line.
    assert moves.count("<li>") == 2 and "online" in moves and "moved by the patient" not in moves
    assert "appointment" not in moves and "provider" not in moves and "-&gt;" not in moves
    before, after = week["at"](0, "10:00"), week["at"](1, "10:00")
    text = re.sub(r"<[^>]+>", "", moves)
    # (short days carry their year when it is not this one)
    assert re.search(rf"From {before:%a} {before.day} {before:%b}( \d{{4}})? 10:00 with Ana Moreau "
                     rf"to {after:%a} {after.day} {after:%b}( \d{{4}})? 10:00 with Ana Moreau", text), text


def test_a_form_without_a_proper_time_is_refused_naming_the_field(client, app, auth):
    week = _week(app)
    me = auth("patient", patient_id=week["patient"])
    for start in ("2027-03-03T10:00", "next tuesday", ""):
        answer = client.post(f"/my/appointments/{week['moving']}/move", headers=me,
                             data={"provider_id": week["ana"], "start": start, "sequence": 0})
        assert answer.status_code == 422, start
    with app.app_context():
        assert db.session.get(Appointment, week["moving"]).sequence == 0


def test_two_patients_moving_into_the_same_time_at_once_never_double_book(client, app, auth, live_server):
    """Over HTTP at the same moment (gunicorn's processes on PostgreSQL): one moves, the other gets 409 with
    fresh alternatives that no longer hold the time."""
    import json
    import threading
    import urllib.error
    import urllib.request

    base, server = live_server
    assert server == ("gunicorn" if ON_POSTGRES else "threaded")
    first = _week(app)
    with app.app_context():
        # Another patient of Ana's, with a Thursday session at 12:00 that Wednesday 11:15 would suit too.
        other = factories.patient(hours="mon-fri 09:00-17:00").id
        thursday = book(other, first["ana"], "physiotherapy", first["at"](3, "12:00")).id
        second = {"patient": other, "moving": thursday}
    wanted = first["at"](2, "11:15").isoformat()
    people = [(first["patient"], first["moving"]), (second["patient"], second["moving"])]
    headers = [auth("patient", patient_id=patient) for patient, _ in people]
    barrier, answers = threading.Barrier(2), {}

    def move(i: int) -> None:
        request = urllib.request.Request(
            f"{base}/api/v1/me/appointments/{people[i][1]}/move", method="POST",
            data=json.dumps({"provider_id": first["ana"], "start": wanted, "sequence": 0}).encode(),
            headers={"Content-Type": "application/json", **headers[i]})
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers[i] = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as refused:
            answers[i] = (refused.code, json.loads(refused.read()))

    threads = [threading.Thread(target=move, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers.values()) == [200, 409], (server, answers)
    status, refused = next(answer for answer in answers.values() if answer[0] == 409)
    assert all(o["start"] != wanted or o["provider_id"] != first["ana"] for o in refused["error"]["alternatives"])
    with app.app_context():
        at_the_time = db.session.scalars(select(Appointment).where(
            Appointment.provider_id == first["ana"], Appointment.starts_at == first["at"](2, "11:15"),
            Appointment.status != "cancelled")).all()
        assert len(at_the_time) == 1


def test_the_records_moves_read_the_trails_lines_of_both_kinds(ctx):
    """A move in the portal names both clinicians; taking an earlier time offered names the new one only; a line
    the trail wrote some other way still lists a move (without times) rather than failing the record."""
    from careplan.portal.service import moves_by_patient

    patient = factories.patient()
    lines = ["moved by the patient (web): 2027-03-04 10:00 with Ana Moreau (provider 3) -> "
             "2027-03-05 11:15 with Ben Okafor (provider 4)",
             "moved by the patient (web, earlier-slot offer 7): 2027-03-09 10:00 -> 2027-03-06 09:00 with Ana Moreau",
             "moved by the patient (api) in a way no longer written"]
    for minutes, detail in enumerate(lines):
        db.session.add(AuditEvent(action="update", resource="appointment", resource_id="12", patient_id=patient.id,
                                  origin=detail.split("(")[1][:3].strip(",)"), detail=detail,
                                  at=utcnow() + timedelta(minutes=minutes)))
    db.session.commit()
    odd, offered, portal = moves_by_patient(patient.id)
    local = lambda moment: clinic.to_local(moment).strftime("%Y-%m-%d %H:%M")
    assert (local(portal.before), portal.before_with, local(portal.after), portal.after_with) == (
        "2027-03-04 10:00", "Ana Moreau", "2027-03-05 11:15", "Ben Okafor")
    assert portal.origin == "web" and not portal.earlier_offer and portal.appointment_id == 12
    assert offered.earlier_offer and offered.before_with is None and offered.after_with == "Ana Moreau"
    assert local(offered.after) == "2027-03-06 09:00"
    assert odd.after is None and odd.origin == "api"
