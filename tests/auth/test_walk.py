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
from careplan.fhir.models import CalendarFeed
from careplan.intake.schemas import IntakeSchema
from careplan.intake.service import record_intake
from careplan.providers.service import add_time_off
from careplan.portal.models import EarlierSlotRequest, SlotOffer
from careplan.portal.offers import offer_token
from careplan.reminders.links import link_token
from careplan.reminders.models import OutboundEmail
from careplan.reminders.service import schedule_reminders
from careplan.scheduling.models import Appointment
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
    ("GET", "/api/v1/audit/patients/{patient_id}/seen"): "y---",
    # Protocol templates: the clinic's configuration, read by those who plan care.
    ("GET", "/api/v1/protocols"): "yyy-",
    ("POST", "/api/v1/protocols"): "y---",
    ("GET", "/api/v1/protocols/{template_id}"): "yyy-",
    ("POST", "/api/v1/protocols/{template_id}/versions"): "y---",
    # Intake and its red-flag screen: clinical, not the patient's plan summary.
    ("GET", "/api/v1/patients/{patient_id}/intakes"): "yyy-",
    ("POST", "/api/v1/patients/{patient_id}/intakes"): "yyy-",
    ("GET", "/api/v1/intakes/{intake_id}"): "yyy-",
    ("POST", "/api/v1/intakes/{intake_id}/override"): "y-y-",
    # Care plans: the front desk manages them, the care team reads and adjusts, the patient reads their own.
    ("GET", "/api/v1/plans"): "yyyy",
    ("POST", "/api/v1/plans"): "yy--",
    ("GET", "/api/v1/plans/{plan_id}"): "yyyy",
    ("PATCH", "/api/v1/plans/{plan_id}"): "yy--",
    ("POST", "/api/v1/plans/{plan_id}/status"): "yyy-",
    ("GET", "/api/v1/plans/{plan_id}/versions"): "yyy-",
    ("PATCH", "/api/v1/plans/{plan_id}/phases/{phase_name}"): "y-y-",
    ("GET", "/api/v1/plans/{plan_id}/stale-appointments"): "yyy-",
    ("GET", "/api/v1/plans/{plan_id}/problem"): "yy--",
    # Single appointments: booked by the front desk, read by whoever's schedule it is on, confirmed or
    # cancelled by the patient, marked completed or no-show by its provider.
    ("GET", "/api/v1/appointments"): "yyyy",
    ("POST", "/api/v1/appointments"): "yy--",
    ("GET", "/api/v1/appointments/{appointment_id}"): "yyyy",
    ("PATCH", "/api/v1/appointments/{appointment_id}"): "yyyy",
    ("GET", "/api/v1/providers/{provider_id}/free-slots"): "yyy-",
    # The clinic calendar: the front desk's grid and check-in.
    ("GET", "/api/v1/calendar/day"): "yy--",
    ("GET", "/api/v1/calendar/week"): "yy--",
    ("POST", "/api/v1/appointments/{appointment_id}/check-in"): "yy--",
    # Calendar feeds: the owner themself or staff.
    ("GET", "/api/v1/providers/{owner_id}/calendar-feed"): "yyy-",
    ("POST", "/api/v1/providers/{owner_id}/calendar-feed"): "yyy-",
    ("DELETE", "/api/v1/providers/{owner_id}/calendar-feed"): "yyy-",
    ("GET", "/api/v1/patients/{owner_id}/calendar-feed"): "yy-y",
    ("POST", "/api/v1/patients/{owner_id}/calendar-feed"): "yy-y",
    ("DELETE", "/api/v1/patients/{owner_id}/calendar-feed"): "yy-y",
    # E-mails to patients: the front desk's list of whom to call.
    ("GET", "/api/v1/reminders"): "yy--",
    ("GET", "/api/v1/reminders/{email_id}"): "yy--",
    ("POST", "/api/v1/reminders/{email_id}/retry"): "yy--",
    # The links of reminder e-mails: no sign-in (`security: []`), the signed link is the key.
    ("GET", "/api/v1/appointment-links/{token}"): "yyyy",
    ("POST", "/api/v1/appointment-links/{token}"): "yyyy",
    # A patient's own appointments (careplan.portal): the patient alone.
    ("POST", "/api/v1/me/appointments/confirm"): "---y",
    ("GET", "/api/v1/me/appointments/{appointment_id}/alternatives"): "---y",
    ("POST", "/api/v1/me/appointments/{appointment_id}/move"): "---y",
    ("POST", "/api/v1/me/appointments/{appointment_id}/earlier-slot-request"): "---y",
    # Earlier-time offers by e-mail: no sign-in, the signed link is the key.
    ("GET", "/api/v1/slot-offers/{token}"): "yyyy",
    ("POST", "/api/v1/slot-offers/{token}"): "yyyy",
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
    # Solve jobs: the front desk's (and an admin's) proposals, computed off the request.
    ("GET", "/api/v1/jobs/{job_id}"): "yy--",
    ("POST", "/api/v1/jobs/{job_id}/cancel"): "yy--",
    ("POST", "/api/v1/batch-intakes"): "yy--",
    # Webhooks: other systems' endpoints and their signing secrets are the administrator's alone.
    ("GET", "/api/v1/webhooks"): "y---",
    ("POST", "/api/v1/webhooks"): "y---",
    ("GET", "/api/v1/webhooks/{endpoint_id}"): "y---",
    ("DELETE", "/api/v1/webhooks/{endpoint_id}"): "y---",
    ("GET", "/api/v1/webhooks/{endpoint_id}/deliveries"): "y---",
    ("POST", "/api/v1/webhooks/deliveries/{delivery_id}/resend"): "y---",
    ("GET", "/api/v1/locations"): "yyyy",
    ("POST", "/api/v1/locations"): "y---",
    ("GET", "/api/v1/locations/{location_id}"): "yyyy",
    ("PATCH", "/api/v1/locations/{location_id}"): "y---",
    ("GET", "/api/v1/rooms"): "yyy-",
    ("POST", "/api/v1/rooms"): "y---",
    ("GET", "/api/v1/rooms/{room_id}"): "yyy-",
    ("PATCH", "/api/v1/rooms/{room_id}"): "y---",
}

# Every refusal is audited under one of these singular names, so the trail can be searched by resource.
AUDITED_RESOURCES = {"clinic", "provider", "patient", "auth", "token", "user", "note", "audit",
                     "protocol", "intake", "plan", "appointment", "free_slot", "calendar_feed", "reminder",
                     "appointment_link", "proposal", "slot_offer", "webhook", "solve_job", "location", "room"}

# An allowed call may still be refused for what its body or query says (an empty body is sent), never for access.
ABOUT_THE_BODY = {400, 409, 422}
MISSING = 999_999
MISSING_CODE = "no-such-discipline"
FORGED_LINK = "not-a-link-this-clinic-signed"
_days = itertools.count()


class World:
    """Two patients and two providers: provider 1 is on patient A's care team (a plan and an appointment),
    provider 2 on patient B's. The patient user is patient A; each role's "inside" is a record it may reach,
    its "outside" patient B's record (or, for staff, who reach every patient, one that does not exist)."""

    def __init__(self):
        # Ids only: each request ends by removing the session, which would detach any object kept here.
        provider_1, provider_2 = factories.provider(), factories.provider()
        patient_a, patient_b = factories.patient(), factories.patient()
        self.provider_1, self.provider_2 = provider_1.id, provider_2.id
        self.patient_a, self.patient_b = patient_a.id, patient_b.id
        self.plan_a = factories.care_plan(patient_a, {"physiotherapy": provider_1}).id
        self.plan_b = factories.care_plan(patient_b, {"physiotherapy": provider_2}).id
        self.appointment_a = factories.appointment(self.patient_a, self.provider_1).id
        self.appointment_b = factories.appointment(self.patient_b, self.provider_2).id
        self.intake_a, self.intake_b = self._intake(self.patient_a), self._intake(self.patient_b)
        self.template = factories.protocols()[0].id
        schedule_reminders(db.session.get(Appointment, self.appointment_a))
        db.session.commit()
        self.email = db.session.scalar(select(OutboundEmail.id).limit(1))
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
        # A proposal for A's plan (no solver run).
        self.proposal_a = factories.proposal(self.plan_a).id
        self.delivery = self._delivery()
        self.location, self.room = self._location_and_room()

    def _job(self) -> int:
        """A queued job of A's plan, fresh each time (a cancel ends it)."""
        from careplan.jobs.models import SolveJob

        row = SolveJob(kind="proposal", params={"plan_id": self.plan_a, "parameters": {}}, time_limit=1.0,
                       patient_id=self.patient_a)
        db.session.add(row)
        db.session.commit()
        return row.id

    @staticmethod
    def _location_and_room() -> tuple[int, int]:
        from careplan.rooms.service import create_location, create_room

        location = create_location({"name": "Main street", "address": "1 Main St", "active": True}, caller=factories.CALLER)
        room = create_room({"location_id": location.id, "name": "Table room", "kind": "treatment-table",
                            "capacity": 1, "active": True}, caller=factories.CALLER)
        return location.id, room.id

    @staticmethod
    def _endpoint() -> int:
        from careplan.webhooks.service import create_endpoint

        return create_endpoint({"url": "http://127.0.0.1:9/events", "events": ["appointment.booked"]},
                               caller=factories.CALLER).id

    def _delivery(self) -> int:
        """A delivery that went out, so that a resend is allowed."""
        from careplan.webhooks.models import WebhookDelivery

        row = WebhookDelivery(endpoint_id=self._endpoint(), event_id="evt_walk", event_type="appointment.booked",
                              payload={}, status="sent")
        db.session.add(row)
        db.session.commit()
        return row.id

    @staticmethod
    def _intake(patient_id: int) -> int:
        return record_intake(patient_id, IntakeSchema().load(factories.intake_body()), caller=factories.CALLER).id

    @staticmethod
    def _feed(owner: str, owner_id: int) -> int:
        """The owner has a feed, whatever an earlier call did to it."""
        if db.session.scalar(select(CalendarFeed.id).where(getattr(CalendarFeed, f"{owner}_id") == owner_id)) is None:
            db.session.add(CalendarFeed(token_hash=f"walk-{owner}-{owner_id}-{next(_days)}".ljust(64, "0"),
                                        **{f"{owner}_id": owner_id}))
            db.session.commit()
        return owner_id

    def _inside_or_out(self, role: str | None, inside: bool, mine, theirs):
        """Staff reach every patient: their "outside" is a record that does not exist."""
        if inside:
            return mine
        return MISSING if role in ("admin", "front_desk", None) else theirs

    def _offer(self) -> str:
        """An open offer of patient B's time to patient A's appointment (no cancellation needed to make one)."""
        request = EarlierSlotRequest(patient_id=self.patient_a, appointment_id=self.appointment_a)
        db.session.add(request)
        db.session.flush()
        freed = db.session.get(Appointment, self.appointment_b)
        offer = SlotOffer(request_id=request.id, freed_appointment_id=freed.id, provider_id=freed.provider_id,
                          starts_at=freed.starts_at, ends_at=freed.ends_at,
                          expires_at=datetime.now(timezone.utc) + timedelta(hours=1))
        db.session.add(offer)
        db.session.commit()
        return offer_token(offer)

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
                                                 "reason": "course"}).time_off.id

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

    def resolve(self, param: str, role: str | None, inside: bool, fresh: bool, earlier: dict, path: str = ""):
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
        if param == "plan_id":
            return self._inside_or_out(role, inside, self.plan_a, self.plan_b)
        if param == "phase_name":
            return "acute"
        if param == "intake_id":
            return self._inside_or_out(role, inside, self.intake_a, self.intake_b)
        if param == "template_id":
            return self.template if inside else MISSING
        if param == "email_id":
            return self.email if inside else MISSING
        if param == "owner_id":
            owner = "provider" if path.startswith("/api/v1/providers/") else "patient"
            mine, theirs = ((self.provider_1, self.provider_2) if owner == "provider"
                            else (self.patient_a, self.patient_b))
            if role == owner and not inside:
                return theirs
            return self._feed(owner, mine) if inside else MISSING
        if param == "token":
            if not inside:
                return FORGED_LINK
            if path.startswith("/api/v1/slot-offers/"):
                return self._offer()
            return link_token(db.session.get(Appointment, self.appointment_a), "confirm")
        # --- booking2 ---
        if param == "plan_id":
            return self.plan_a if inside else (MISSING if role in ("admin", "front_desk", None) else self.plan_b)
        if param == "proposal_id":
            return self.proposal_a if inside else MISSING
        if param == "endpoint_id":
            return self._endpoint() if inside else MISSING
        if param == "delivery_id":
            return self.delivery if inside else MISSING
        if param == "job_id":
            return self._job() if inside else MISSING
        if param == "location_id":
            return self.location if inside else MISSING
        if param == "room_id":
            return self.room if inside else MISSING
        raise AssertionError(f"the walk does not know path parameter {param!r}: add it to World.resolve")


def _operations(document) -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in ("get", "post", "put", "patch", "delete")]


def _denials() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "denied"))


def _last_denied_resource() -> str:
    return db.session.scalar(select(AuditEvent.resource).where(AuditEvent.action == "denied")
                             .order_by(AuditEvent.id.desc()).limit(1))


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
                    values[param] = world.resolve(param, caller, inside, method == "DELETE", values, path)
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
                resource = _last_denied_resource()
            refused = expected in ("401", "403") or (expected == "404" and not missing)
            if ok and refused and after != before + 1:
                wrong.append(f"{method} {url}: {status} refused but no audit row")
            elif ok and refused and resource not in AUDITED_RESOURCES:
                wrong.append(f"{method} {url}: refusal audited as {resource!r}, not one of the resource names")
            elif not ok:
                wrong.append(f"{method} {url} ({'inside' if inside else 'outside'}): "
                             f"expected {expected}, got {status} {response.get_data(as_text=True)[:120]}")
    assert wrong == []


# FHIR resources that carry a patient's record, each with the World's record of patient A and of patient B.
FHIR_RECORDS = {
    "Patient": ("patient_a", "patient_b"),
    "Appointment": ("appointment_a", "appointment_b"),
    "CarePlan": ("plan_a", "plan_b"),
    "CareTeam": ("plan_a", "plan_b"),
}


def _audit_rows(action: str, resource: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                            AuditEvent.resource == resource)))


@pytest.mark.parametrize("caller", ROLES + (None,), ids=lambda c: c or "anonymous")
def test_fhir_reads_and_searches_stay_within_reach_and_are_audited(app, client, caller):
    """Every role reaches patient A (staff all, provider 1 on the care team, the patient themself); patient B
    is out of reach of the provider and the patient user; staff's "outside" is a record that does not exist."""
    with app.app_context():
        world = World()
        headers = world.headers(caller) if caller else {}
    wrong = []
    for resource_type, (mine, theirs) in FHIR_RECORDS.items():
        resource = f"fhir:{resource_type}"
        inside, outside = getattr(world, mine), getattr(world, theirs)
        if caller in ("admin", "front_desk"):
            outside = MISSING
        for record_id, reachable in ((inside, True), (outside, False)):
            with app.app_context():
                denied, read = len(_audit_rows("denied", resource)), len(_audit_rows("read", resource))
            response = client.get(f"/fhir/{resource_type}/{record_id}", headers=headers)
            body = response.get_json()
            expected = 401 if caller is None else 200 if reachable else 404
            with app.app_context():
                denied_after = _audit_rows("denied", resource)
                read_after = _audit_rows("read", resource)
            if response.status_code != expected:
                wrong.append(f"{caller} read {resource_type}/{record_id}: {response.status_code}, not {expected}")
            elif expected == 200 and (len(read_after) != read + 1 or read_after[-1].patient_id != world.patient_a):
                wrong.append(f"{caller} read {resource_type}/{record_id}: no read row for patient A")
            elif expected != 200 and (body["resourceType"] != "OperationOutcome" or len(denied_after) != denied + 1):
                wrong.append(f"{caller} read {resource_type}/{record_id}: not an audited OperationOutcome")
        with app.app_context():
            read = len(_audit_rows("read", resource))
        response = client.get(f"/fhir/{resource_type}", headers=headers)
        with app.app_context():
            read_after = len(_audit_rows("read", resource))
        if caller is None:
            if response.status_code != 401:
                wrong.append(f"anonymous search {resource_type}: {response.status_code}")
            continue
        found = {entry["resource"]["id"] for entry in response.get_json().get("entry", [])}
        if str(inside) not in found or (caller in ("provider", "patient") and str(getattr(world, theirs)) in found):
            wrong.append(f"{caller} search {resource_type}: found {sorted(found)}")
        if read_after != read + 1:
            wrong.append(f"{caller} search {resource_type}: no read row")
    assert wrong == []


def test_the_trail_is_searched_by_singular_resource_names(app, client):
    """Reads, changes and refusals of one kind of record share one name, whichever path refused them."""
    with app.app_context():
        world = World()
        provider, admin = world.headers("provider"), world.headers("admin")
        patient = world.headers("patient")
    assert client.get(f"/api/v1/plans/{world.plan_a}", headers=provider).status_code == 200
    assert client.get(f"/api/v1/plans/{world.plan_b}/versions", headers=provider).status_code == 404
    assert client.get(f"/api/v1/plans/{world.plan_a}/problem", headers=provider).status_code == 403
    assert client.get(f"/api/v1/plans/{world.plan_a}").status_code == 401
    assert client.get(f"/api/v1/intakes/{world.intake_b}", headers=provider).status_code == 404
    assert client.get(f"/api/v1/appointments/{world.appointment_b}", headers=patient).status_code == 404
    assert client.get(f"/api/v1/notes/{world.note_b}", headers=provider).status_code == 404
    assert client.get(f"/api/v1/patients/{world.patient_b}/calendar-feed", headers=patient).status_code == 404
    assert client.get(f"/api/v1/patients/{world.patient_b}", headers=provider).status_code == 404

    def trail(**query):
        rows = client.get("/api/v1/audit", headers=admin, query_string={**query, "page_size": 100}).get_json()
        return sorted((row["action"], row["resource_id"], row["role"]) for row in rows)

    assert trail(resource="plan") == sorted([
        ("read", str(world.plan_a), "provider"), ("denied", str(world.plan_b), "provider"),
        ("denied", str(world.plan_a), "provider"), ("denied", str(world.plan_a), "")])
    # Out of reach is known to be about a patient; a refusal by role or for no sign-in comes before that.
    assert trail(resource="plan", patient_id=world.patient_b) == [("denied", str(world.plan_b), "provider")]
    assert trail(resource="intake", action="denied") == [("denied", str(world.intake_b), "provider")]
    assert trail(resource="appointment", action="denied") == [("denied", str(world.appointment_b), "patient")]
    assert trail(resource="note", action="denied") == [("denied", str(world.note_b), "provider")]
    assert trail(resource="calendar_feed", action="denied") == [("denied", str(world.patient_b), "patient")]
    assert trail(resource="patient", action="denied") == [("denied", str(world.patient_b), "provider")]
