"""A patient confirms a whole clinic week, or everything upcoming, in one request (API and portal)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from careplan.audit.models import AuditEvent
from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.conftest import book


def _two_weeks(app):
    """Three sessions next week (one already confirmed), two the week after, one of another patient."""
    with app.app_context():
        physio = factories.provider(name="Ana Moreau").id
        mine, other = factories.patient().id, factories.patient().id
        today = datetime.now(clinic.zone()).date()
        next_monday = today + timedelta(days=7 - today.weekday())
        at = lambda day, hour: clinic.local_datetime(day, time(hour))  # noqa: E731
        week1 = [book(mine, physio, "physiotherapy", at(next_monday + timedelta(days=d), 10)).id for d in (0, 2)]
        week1.append(book(mine, physio, "physiotherapy", at(next_monday + timedelta(days=4), 10),
                          status="confirmed").id)
        week2 = [book(mine, physio, "physiotherapy", at(next_monday + timedelta(days=d), 10)).id for d in (8, 13)]
        theirs = book(other, physio, "physiotherapy", at(next_monday + timedelta(days=1), 10)).id
        return mine, next_monday, week1, week2, theirs


def _statuses(app, ids):
    with app.app_context():
        return [db.session.get(Appointment, i).status for i in ids]


def test_a_patient_confirms_one_week_then_all_upcoming(client, app, auth):
    mine, monday, week1, week2, theirs = _two_weeks(app)
    me = auth("patient", patient_id=mine)
    # Any day of the week names the week.
    answer = client.post("/api/v1/me/appointments/confirm", headers=me,
                         json={"week_of": (monday + timedelta(days=3)).isoformat()})
    assert answer.status_code == 200, answer.json
    assert sorted(a["id"] for a in answer.json["confirmed"]) == sorted(week1[:2])
    assert _statuses(app, week1) == ["confirmed"] * 3
    assert _statuses(app, week2 + [theirs]) == ["booked"] * 3

    answer = client.post("/api/v1/me/appointments/confirm", headers=me, json={"all_upcoming": True})
    assert sorted(a["id"] for a in answer.json["confirmed"]) == sorted(week2)
    assert _statuses(app, week2) == ["confirmed"] * 2 and _statuses(app, [theirs]) == ["booked"]
    with app.app_context():
        details = db.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.resource == "appointment", AuditEvent.action == "update")).all()
        assert sum("confirmed by the patient" in d for d in details) == 4
    # Nothing left: an empty list, not an error.
    assert client.post("/api/v1/me/appointments/confirm", headers=me,
                       json={"all_upcoming": True}).json == {"confirmed": []}


def test_confirming_many_needs_a_scope_and_a_patient(client, app, auth):
    mine, monday, week1, week2, theirs = _two_weeks(app)
    me = auth("patient", patient_id=mine)
    for body in ({}, {"all_upcoming": False}, {"week_of": monday.isoformat(), "all_upcoming": True}):
        answer = client.post("/api/v1/me/appointments/confirm", headers=me, json=body)
        assert answer.status_code == 422 and "week_of" in answer.json["error"]["fields"], body
    assert client.post("/api/v1/me/appointments/confirm", headers=me,
                       json={"week_of": "next week"}).status_code == 422
    assert client.post("/api/v1/me/appointments/confirm", headers=auth("front_desk"),
                       json={"all_upcoming": True}).status_code == 403
    assert client.post("/api/v1/me/appointments/confirm", json={"all_upcoming": True}).status_code == 401
    assert _statuses(app, week1[:2] + week2) == ["booked"] * 4


def test_the_portal_confirms_a_week_with_one_button(client, app, auth):
    mine, monday, week1, week2, theirs = _two_weeks(app)
    me = auth("patient", patient_id=mine)
    page = client.get("/my/appointments", headers=me).text
    assert page.count("Confirm this week") == 2 and "Confirm all upcoming" in page
    answer = client.post("/my/appointments/confirm", headers=me, data={"week_of": monday.isoformat()})
    assert answer.status_code == 302
    assert "2 sessions confirmed." in client.get("/my/appointments", headers=me).text
    assert _statuses(app, week1 + week2) == ["confirmed"] * 3 + ["booked"] * 2
    client.post("/my/appointments/confirm", headers=me, data={"all_upcoming": "1"})
    assert _statuses(app, week2) == ["confirmed"] * 2
    page = client.get("/my/appointments", headers=me).text
    assert "Confirm this week" not in page and "Confirm all upcoming" not in page
    assert client.post("/my/appointments/confirm", headers=me, data={}).status_code == 422


def test_a_week_at_the_ends_of_the_calendar_is_refused_not_a_crash(client, app, auth):
    me = auth("patient")
    for day in ("9999-12-31", "0001-01-01"):
        answer = client.post("/api/v1/me/appointments/confirm", headers=me, json={"week_of": day})
        assert answer.status_code == 422 and "week_of" in answer.json["error"]["fields"], answer.json
        assert client.post("/my/appointments/confirm", headers=me, data={"week_of": day}).status_code == 422
