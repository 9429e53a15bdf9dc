"""Garbage in every field of every form of every page: a page naming the field (or a page that says why),
never a 500, and a refused form writes nothing.

The pages are those of the demo clinic as each role sees them; every POST form on them is sent back once
with garbage in all its fields and once per field with garbage in that field alone (the others as the page
filled them, so a half-written change would show). Hidden fields get garbage too: a form's `version` or a
session key is as much the visitor's input as any box.
"""
from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from careplan.auth.models import User
from careplan.clinic import service as clinic
from careplan.demo import load_demo
from careplan.extensions import db
from careplan.intake.models import Intake
from careplan.patients.models import Patient
from careplan.plans.models import CarePlan
from careplan.protocols.models import ProtocolTemplate
from careplan.reminders.links import link_token
from careplan.providers.models import Provider, ProviderTimeOff as TimeOff
from careplan.scheduling.models import Appointment
from tests import factories

GARBAGE = ("\u202eé<b>zz</b>", "-1", "99999999999999999999999", "0001-01-01T00:00", "2027-02-30", "1e309",
           "3.5", "", "a\x00b")
# Tables a refused request may still write: the audit trail (reads and refusals stand) and the credentials
# the request came with (last use).
MAY_CHANGE = {"audit_events", "audit_event_patients", "api_tokens", "web_sessions"}


class Forms(HTMLParser):
    """The POST forms of a page: action, the fields with the values the page put in them, the submit buttons."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action"), "method": (a.get("method") or "get").lower(),
                          "fields": {}, "buttons": [], "hidden": set()}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "image"):
                self._form["buttons"].append((a["name"], a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"][a["name"]] = a.get("value", "on")
                else:
                    self._form["fields"].setdefault(a["name"], None)
            else:
                self._form["fields"][a["name"]] = a.get("value", "")
                if kind == "hidden":
                    self._form["hidden"].add(a["name"])
        elif tag == "button" and a.get("name"):
            self._form["buttons"].append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["fields"].setdefault(a["name"], "")
        elif tag == "option" and self._select:
            if "selected" in a or not self._form["fields"][self._select]:
                self._form["fields"][self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def post_forms(html: str) -> list[dict]:
    parser = Forms()
    parser.feed(html)
    return [f for f in parser.forms if f["method"] == "post"]


def snapshot() -> dict:
    db.session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name not in MAY_CHANGE:
            state[table.name] = sorted(map(repr, db.session.execute(select(table)).all()))
    db.session.rollback()
    return state


@pytest.fixture
def demo(app, monkeypatch):
    monkeypatch.setitem(app.config, "PROPOSAL_MAX_SECONDS", 0.2)
    with app.app_context():
        load_demo()
        linh = db.session.scalar(select(Patient).where(Patient.name == "Linh Tran"))
        # Two of Linh's later sessions: the desk's forms may cancel one, the patient's the other.
        upcoming, own = db.session.scalars(select(Appointment).where(
            Appointment.patient_id == linh.id, Appointment.status.in_(("booked", "confirmed")))
            .order_by(Appointment.starts_at.desc())).all()[:2]
        draft = db.session.scalars(select(CarePlan).where(CarePlan.status == "draft")).first()
        booked = db.session.scalars(select(CarePlan).where(CarePlan.patient_id == linh.id)).first()
        absence = db.session.scalars(select(TimeOff)).first()
        clinician = db.session.get(Provider, upcoming.provider_id)
        headers = {role: factories.bearer(db.session.scalar(select(User).where(User.email == email)))
                   for role, email in (("admin", "admin@riverside.example"),
                                       ("front_desk", "frontdesk@riverside.example"),
                                       ("provider", clinician.email), ("patient", linh.email))}
        # The e-mail links' pages (no sign-in: the link is the key), on a third session of Linh's.
        linked = db.session.scalars(select(Appointment).where(
            Appointment.patient_id == linh.id, Appointment.status.in_(("booked", "confirmed")))
            .order_by(Appointment.starts_at.desc())).all()[2]
        headers["anyone"] = {}
        pages = {
            "anyone": ["/login"] + [f"/api/v1/appointment-links/{link_token(linked, action)}"
                                    for action in ("move", "confirm", "cancel")],
            # The patient first and the cancel form last: a garbage-free part of a form may well cancel or
            # move a session (the desk's re-plans too).
            "patient": ["/my/appointments", f"/my/appointments/{own.id}/move",
                        f"/my/appointments/{own.id}/cancel"],
            "front_desk": ["/desk", "/desk/patients/new", f"/desk/patients/{linh.id}",
                           f"/desk/patients/{draft.patient_id}/intake", f"/desk/plans/{draft.id}",
                           f"/desk/plans/{draft.id}/schedule", f"/desk/plans/{booked.id}/schedule",
                           f"/desk/appointments/{upcoming.id}", f"/desk/appointments/{upcoming.id}/move",
                           f"/desk/appointments/new?provider={clinician.id}&patient_id={linh.id}",
                           f"/desk/appointments/{upcoming.id}/moving?provider_id={clinician.id}&start="
                           + (clinic.to_local(upcoming.starts_at) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
                           "/desk/flagged", "/desk/patients?q=linh", "/desk/calendar",
                           f"/admin/providers/{absence.provider_id}/time-off/{absence.id}/replan"],
            "admin": ["/admin/providers/new", f"/admin/providers/{clinician.id}", "/admin/users",
                      f"/admin/templates/{db.session.scalars(select(ProtocolTemplate)).first().id}",
                      "/admin/webhooks", "/admin/audit", "/admin/templates", "/admin/providers", "/admin/locations"],
            "provider": [f"/me/patients/{linh.id}", "/me/day", "/me/week"],
        }
        red_flag = db.session.scalars(select(Intake).where(Intake.screen_result == "red_flag")).first()
        pages["provider"].append(f"/desk/intakes/{red_flag.id}")
    return headers, pages


def _send(client, path, data, headers):
    return client.post(path, data=data, headers=headers)


def test_garbage_in_every_field_of_every_form(app, client, demo):
    headers, pages = demo
    sent = 0
    for role, paths in pages.items():
        for path in paths:
            page = client.get(path, headers=headers[role])
            if page.status_code == 404:
                continue
            assert page.status_code == 200, (path, page.status_code, re.findall(r"<main.*?</main>", page.text, re.S)[:1])
            for form in post_forms(page.text):
                action = form["action"] or path
                if action.endswith("/logout"):
                    continue
                names = [n for n in form["fields"] if n != "csrf_token"]
                filled = {n: v for n, v in form["fields"].items() if v is not None}
                button = form["buttons"][:1]
                attempts = [{**filled, **{n: GARBAGE[i % len(GARBAGE)] for i, n in enumerate(names)}}]
                attempts += [{**filled, name: GARBAGE[(k + 1) % len(GARBAGE)]} for k, name in enumerate(names)]
                for data in attempts:
                    data.update(button)
                    with app.app_context():
                        before = snapshot()
                    response = _send(client, action, data, headers[role])
                    sent += 1
                    where = (role, path, action, {k: v for k, v in data.items() if v in GARBAGE})
                    assert response.status_code < 500, where
                    assert response.headers.get("Location", "").split("?")[0] != "/login", where
                    if response.status_code >= 400:
                        with app.app_context():
                            assert snapshot() == before, where
                        assert response.mimetype == "text/html", where
                        summary = response.text.split('class="error-summary"', 1)[1].split("</div>")[0] \
                            if 'class="error-summary"' in response.text else ""
                        items = re.findall(r"<li>(.*?)</li>", summary, re.S)
                        if items and all(item.startswith('<a href="#') for item in items):
                            # A refused form: each field is named in the summary and marked beside its input
                            # (a hidden one, which a link filled, has no box to mark: the summary names it).
                            for name in set(re.findall(r'<a href="#([^"]+)">', summary)) - form["hidden"]:
                                assert f'id="{name}"' in response.text, (where, name)
    print(f"{sent} forms sent")
    assert sent >= 150
