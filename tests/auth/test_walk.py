"""Every operation of the OpenAPI document, called by every role and by nobody, on a record inside and a
record outside the caller's reach, against the one table of who may do what (README, "Who may do what").

An operation the table does not list fails the test: whoever adds an endpoint must decide who may call it
here. A path parameter the walk cannot fill fails it too: add a resolver to `World.resolve`.
"""
from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from careplan.audit.models import AuditEvent
from careplan.auth import service as auth_service
from careplan.auth.models import ApiToken, User
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.providers.models import Provider
from careplan.providers.service import add_time_off
from tests import factories

ROLES = ("admin", "front_desk", "provider", "patient")

# One letter per role, in the order of ROLES: "y" the role may call it (inside its reach; a record outside
# answers 404), "-" the role is refused with 403 whatever the record. Anonymous callers get 401 unless the
# document says `security: []`, in which case the operation is open to everyone.
EXPECT = {
    ("GET", "/api/v1/clinic"): "yyyy",
    ("PATCH", "/api/v1/clinic"): "y---",
    ("GET", "/api/v1/disciplines"): "yyyy",
    ("POST", "/api/v1/disciplines"): "y---",
    ("PATCH", "/api/v1/disciplines/{code}"): "y---",
    ("GET", "/api/v1/providers"): "yyyy",
    ("POST", "/api/v1/providers"): "y---",
    ("GET", "/api/v1/providers/{provider_id}"): "yyyy",
    ("PATCH", "/api/v1/providers/{provider_id}"): "y---",
    ("DELETE", "/api/v1/providers/{provider_id}"): "y---",
    ("GET", "/api/v1/providers/{provider_id}/time-off"): "yyy-",
    ("POST", "/api/v1/providers/{provider_id}/time-off"): "yy--",
    ("DELETE", "/api/v1/providers/{provider_id}/time-off/{time_off_id}"): "yy--",
    ("GET", "/api/v1/patients"): "yyy-",
    ("POST", "/api/v1/patients"): "yy--",
    ("GET", "/api/v1/patients/{patient_id}"): "yyyy",
    ("PATCH", "/api/v1/patients/{patient_id}"): "yy--",
    ("DELETE", "/api/v1/patients/{patient_id}"): "y---",
    ("POST", "/api/v1/auth/login"): "yyyy",
    ("POST", "/api/v1/auth/logout"): "yyyy",
    ("GET", "/api/v1/auth/me"): "yyyy",
    ("GET", "/api/v1/auth/tokens"): "yyyy",
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): "yyyy",
    ("GET", "/api/v1/users"): "y---",
    ("POST", "/api/v1/users"): "y---",
    ("GET", "/api/v1/users/{user_id}"): "y---",
    ("PATCH", "/api/v1/users/{user_id}"): "y---",
    ("GET", "/api/v1/patients/{patient_id}/notes"): "--y-",
    ("POST", "/api/v1/patients/{patient_id}/notes"): "--y-",
    ("GET", "/api/v1/notes/{note_id}"): "--y-",
    ("PATCH", "/api/v1/notes/{note_id}"): "--y-",
    ("GET", "/api/v1/audit"): "y---",
    # --- booking whole plans (branch booking2): proposals, re-plans, absences, backfill ---
    ("GET", "/api/v1/plans/{plan_id}/proposals"): "yy--",
    ("POST", "/api/v1/plans/{plan_id}/proposals"): "yy--",
    ("POST", "/api/v1/plans/{plan_id}/replans"): "yy--",
    ("GET", "/api/v1/proposals/{proposal_id}"): "yy--",
    ("POST", "/api/v1/proposals/{proposal_id}/book"): "yy--",
    ("POST", "/api/v1/proposals/{proposal_id}/release"): "yy--",
    ("GET", "/api/v1/providers/{provider_id}/time-off/{time_off_id}/affected-appointments"): "yy--",
    ("POST", "/api/v1/providers/{provider_id}/time-off/{time_off_id}/replans"): "yy--",
    ("GET", "/api/v1/appointments/{appointment_id}/backfill"): "yy--",
    # --- end of booking2 ---
}

# An allowed call may still be refused for what its body or query says (an empty body is sent), never for access.
ABOUT_THE_BODY = {400, 409, 422}
MISSING = 999_999
MISSING_CODE = "no-such-discipline"
_days = itertools.count()


class World:
    """Two patients and two providers: provider 1 is on patient A's care team (an appointment), provider 2
    on patient B's. The patient user is patient A; each role's "inside" is a record it may reach."""

    def __init__(self):
        # Ids only: each request ends by removing the session, which would detach any object kept here.
        self.provider_1, self.provider_2 = factories.provider().id, factories.provider().id
        self.patient_a, self.patient_b = factories.patient().id, factories.patient().id
        self.appointment_a = factories.appointment(self.patient_a, self.provider_1).id
        self.appointment_b = factories.appointment(self.patient_b, self.provider_2).id
        users = {
            "admin": factories.user("admin", password=None),
            "front_desk": factories.user("front_desk", password=None),
            "provider": factories.user("provider", password=None, provider_id=self.provider_1),
            "patient": factories.user("patient", password=None, patient_id=self.patient_a),
        }
        other_provider = factories.user("provider", password=None, provider_id=self.provider_2)
        self.note_a = factories.note(self.patient_a, users["provider"]).id
        self.note_b = factories.note(self.patient_b, other_provider).id
        self.users = {role: user.id for role, user in users.items()}
        self.someone_elses_token = self._token_id(other_provider.id)
        # --- booking2: a booked plan of each patient, and a proposal for A's (no solver run) ---
        self.plan_a, self.plan_b = (
            factories.care_plan(db.session.get(Patient, patient),
                                {"physiotherapy": db.session.get(Provider, provider)}).id
            for patient, provider in ((self.patient_a, self.provider_1), (self.patient_b, self.provider_2)))
        self.proposal_a = factories.proposal(self.plan_a).id

    def headers(self, role: str) -> dict:
        return factories.bearer(db.session.get(User, self.users[role]))

    @staticmethod
    def _token_id(user_id: int) -> int:
        auth_service.issue_token(db.session.get(User, user_id), name="walk")
        return db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user_id)
                                 .order_by(ApiToken.id.desc()).limit(1))

    def _time_off(self, provider_id: int) -> int:
        # A day of its own per call: one provider's absences may not overlap.
        start = datetime.now(timezone.utc) + timedelta(days=30 + 2 * next(_days))
        return add_time_off(provider_id, {"starts_at": start, "ends_at": start + timedelta(days=1),
                                                 "reason": "course"}).id

    def _patient(self, role: str, inside: bool, fresh: bool) -> int:
        if not inside:
            return MISSING if role in ("admin", "front_desk") else self.patient_b
        if role == "patient":
            return self.patient_a
        if fresh:
            # Something a delete may take away without spoiling the next call.
            patient = factories.patient()
            if role == "provider":
                factories.appointment(patient.id, self.provider_1, days_ahead=60 + next(_days))
            return patient.id
        return self.patient_a

    def resolve(self, param: str, role: str | None, inside: bool, fresh: bool, earlier: dict):
        """The value of a path parameter; `earlier` holds the parameters before it in the path."""
        if param == "patient_id":
            return self._patient(role or "admin", inside, fresh)
        if param == "provider_id":
            return (factories.provider().id if fresh else self.provider_1) if inside else MISSING
        if param == "time_off_id":
            return self._time_off(earlier.get("provider_id", self.provider_1)) if inside else MISSING
        if param == "note_id":
            return self.note_a if inside else (self.note_b if role == "provider" else MISSING)
        if param == "user_id":
            return factories.user("front_desk", password=None).id if inside else MISSING
        if param == "token_id":
            return self._token_id(self.users[role]) if inside and role else (
                self.someone_elses_token if role else MISSING)
        if param == "appointment_id":
            if not inside:
                return MISSING if role in ("admin", "front_desk", None) else self.appointment_b
            if fresh:
                return factories.appointment(self.patient_a, self.provider_1, days_ahead=60 + next(_days)).id
            return self.appointment_a
        if param == "code":
            return "physiotherapy" if inside else MISSING_CODE
        # --- booking2 ---
        if param == "plan_id":
            return self.plan_a if inside else (MISSING if role in ("admin", "front_desk", None) else self.plan_b)
        if param == "proposal_id":
            return self.proposal_a if inside else MISSING
        raise AssertionError(f"the walk does not know path parameter {param!r}: add it to World.resolve")


def _operations(document) -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in ("get", "post", "put", "patch", "delete")]


def _denials() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "denied"))


def test_every_operation_is_in_the_table(client):
    listed = {(method, path) for method, path, _ in _operations(client.get("/api/openapi.json").get_json())}
    assert sorted(listed - EXPECT.keys()) == [], "operations missing from EXPECT: decide who may call them"
    assert sorted(EXPECT.keys() - listed) == [], "EXPECT lists operations the document no longer has"


@pytest.mark.parametrize("caller", ROLES + (None,), ids=lambda c: c or "anonymous")
def test_every_operation_answers_as_the_table_says(app, client, caller):
    document = client.get("/api/openapi.json").get_json()
    wrong = []
    # Requests run outside any outer app context: one shared with them would share `g` and the session.
    with app.app_context():
        world = World()
    for method, path, operation in _operations(document):
        with app.app_context():
            rule = EXPECT[(method, path)]
            open_to_all = operation.get("security") == []
            params = re.findall(r"{(\w+)}", path)
            calls = []
            for inside in ((True, False) if params else (True,)):
                values = {}
                for param in params:
                    values[param] = world.resolve(param, caller, inside, method == "DELETE", values)
                # A record that does not exist at all (rather than one out of reach) may be refused for
                # its body first: which check comes first there gives nothing away.
                missing = any(v in (MISSING, MISSING_CODE) for v in values.values())
                calls.append((inside, missing, path.format(**values), world.headers(caller) if caller else {}))
        for inside, missing, url, headers in calls:
            with app.app_context():
                before = _denials()
            body = {} if method in ("POST", "PUT", "PATCH") else None
            response = client.open(url, method=method, headers=headers, json=body)
            status = response.status_code
            if caller is None and not open_to_all:
                expected = "401"
            elif not open_to_all and rule[ROLES.index(caller)] == "-":
                expected = "403"
            elif inside:
                expected = "allowed"
            else:
                expected = "404"
            if expected == "allowed":
                ok = status in range(200, 300) or status in ABOUT_THE_BODY
            else:
                ok = status == int(expected) or (expected == "404" and missing and status in ABOUT_THE_BODY)
            with app.app_context():
                after = _denials()
            refused = expected in ("401", "403") or (expected == "404" and not missing)
            if ok and refused and after != before + 1:
                wrong.append(f"{method} {url}: {status} refused but no audit row")
            elif not ok:
                wrong.append(f"{method} {url} ({'inside' if inside else 'outside'}): "
                             f"expected {expected}, got {status} {response.get_data(as_text=True)[:120]}")
    assert wrong == []
