"""Reading and searching the FHIR resources, within what the caller may see.

Every read and search goes through the same reach as the JSON API: staff see
everything; a provider sees the patients of their care teams (and those
patients' plans and appointments) and their own schedule; a patient sees
themself, their plans and their appointments. Anything else is "not found".
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable

from sqlalchemy import Select, false, func, or_, select, true
from sqlalchemy.orm import selectinload

from careplan.auth.access import STAFF, care_team_patient_ids
from careplan.auth.models import User
from careplan.clinic.models import Discipline
from careplan.clinic.service import local_datetime, to_local, zone
from careplan.db import utcnow
from careplan.errors import NotFound
from careplan.extensions import db
from careplan.fhir import resources
from careplan.fhir.search import BadSearch, Query, point_window
from careplan.fhir.slots import (SlotSpan, away_between, booked_between, hours_of, in_naive_utc, local_days,
                                 parse_slot_id, provider_slots, provider_spans)
from careplan.patients.models import Patient
from careplan.plans.models import WITH_LINES_AND_TEAM, CarePlan, Phase
from careplan.providers.models import WITH_CALENDAR, Provider
from careplan.providers.service import may_see_time_off_reasons
from careplan.rooms.models import Location, Room
from careplan.scheduling.models import Appointment

# Slots are computed per request: a search covers at most this much time, and a week when it names none.
SLOT_RANGE_LIMIT = timedelta(days=31)
SLOT_RANGE_DEFAULT = timedelta(days=7)

APPOINTMENT_STATUS_FROM_FHIR = defaultdict(tuple, {
    "booked": ("booked", "confirmed"), "cancelled": ("cancelled",), "fulfilled": ("completed",),
    "noshow": ("no_show",)})


def patient_filter(user: User, column):
    """A condition on a patient id column: the patients this user may see."""
    if user.role in STAFF:
        return true()
    if user.role == "patient":
        return column == user.patient_id
    if user.role == "provider":
        return column.in_(care_team_patient_ids(user.provider_id))
    return false()


def provider_filter(user: User, column):
    """A condition on a provider id column: whose schedules this user may see."""
    if user.role in STAFF:
        return true()
    if user.role == "provider":
        return column == user.provider_id
    return false()


@dataclass
class Page:
    total: int
    resources: list[dict]


def _sql_page(statement: Select, query: Query, to_resources: Callable[[list], list[dict]]) -> Page:
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = list(db.session.scalars(statement.limit(query.count).offset(query.offset)))
    return Page(total, to_resources(rows))


def _list_page(items: list[dict], query: Query) -> Page:
    return Page(len(items), items[query.offset: query.offset + query.count])


def _one(found: list[dict], resource_type: str, resource_id: str) -> dict:
    if not found:
        raise NotFound(f"No {resource_type} {resource_id}.")
    return found[0]


def _record_id(resource_id: str) -> int:
    return int(resource_id) if resource_id.isdigit() and int(resource_id) <= 2**31 - 1 else 0


def _by_id(resource_type: str, search: Callable[[Query, User], Page], params: dict[str, str]) -> Callable:
    """A read is a search by `_id` that must find exactly the one resource (`1,2` is no id)."""
    def read(resource_id: str, user: User) -> dict:
        try:
            found = search(Query(_IdArgs(resource_id), params), user)
        except BadSearch:
            raise NotFound(f"No {resource_type} {resource_id}.") from None
        return _one([r for r in found.resources if r["id"] == resource_id], resource_type, resource_id)
    return read


class _IdArgs(dict):
    """The arguments of `?_id=<id>`, shaped like Flask's request.args."""

    def __init__(self, resource_id: str):
        super().__init__(_id=resource_id)

    def getlist(self, name):
        return [self[name]] if name in self else []


# Patient

def search_patients(query: Query, user: User) -> Page:
    statement = select(Patient).where(patient_filter(user, Patient.id)).order_by(Patient.id)
    if (ids := query.ids("_id")) is not None:
        statement = statement.where(Patient.id.in_(ids))
    if (names := query.strings("name")) is not None:
        statement = statement.where(or_(*(func.lower(Patient.name).contains(n, autoescape=True) for n in names)))
    if (emails := query.strings("email")) is not None:
        statement = statement.where(func.lower(Patient.email).in_(emails))
    return _sql_page(statement, query, lambda rows: [resources.patient(r) for r in rows])


# Practitioner, PractitionerRole, Schedule: every signed-in user may know who works here; schedules are private.

def _providers(query: Query, extra=true()) -> Select:
    statement = select(Provider).where(extra).order_by(Provider.id)
    if (ids := query.ids("_id")) is not None:
        statement = statement.where(Provider.id.in_(ids))
    for name in ("specialty", "service-type"):
        if (codes := query.tokens(name)) is not None:
            statement = statement.where(Provider.disciplines.any(Discipline.code.in_(codes)))
    if (active := query.tokens("active")) is not None:
        if not active <= {"true", "false"}:
            raise BadSearch("'active' is true or false.", fields={"active": ",".join(active)})
        statement = statement.where(Provider.active.in_([value == "true" for value in active]))
    return statement


def search_practitioners(query: Query, user: User) -> Page:
    statement = _providers(query)
    if (names := query.strings("name")) is not None:
        statement = statement.where(or_(*(func.lower(Provider.name).contains(n, autoescape=True) for n in names)))
    return _sql_page(statement, query, lambda rows: [resources.practitioner(r) for r in rows])


def search_practitioner_roles(query: Query, user: User) -> Page:
    statement = _providers(query).options(*WITH_CALENDAR)
    if (ids := query.ids("practitioner", "Practitioner")) is not None:
        statement = statement.where(Provider.id.in_(ids))
    now = utcnow()
    with_reasons = may_see_time_off_reasons(user)
    return _sql_page(statement, query, lambda rows: [resources.practitioner_role(r, now, with_reasons=with_reasons)
                                                     for r in rows])


def search_schedules(query: Query, user: User) -> Page:
    statement = _providers(query, provider_filter(user, Provider.id))
    if (ids := query.ids("actor", "Practitioner")) is not None:
        statement = statement.where(Provider.id.in_(ids))
    return _sql_page(statement, query, lambda rows: [resources.schedule(r) for r in rows])


# Slot

def _slot_range(query: Query) -> tuple[datetime, datetime]:
    lower, upper = point_window(query.dates("start"))
    if lower is None and upper is None:
        lower = local_datetime(to_local(utcnow()).date(), time(0))
    if lower is None:
        lower = upper - SLOT_RANGE_DEFAULT
    if upper is None:
        upper = lower + SLOT_RANGE_DEFAULT
    if upper - lower > SLOT_RANGE_LIMIT:
        raise BadSearch(f"Slots are searched over at most {SLOT_RANGE_LIMIT.days} days; narrow 'start'.",
                        fields={"start": "range too wide"}, code="too_costly")
    return lower, upper


def search_slots(query: Query, user: User) -> Page:
    start, end = _slot_range(query)
    statement = _providers(query, provider_filter(user, Provider.id)).where(Provider.active.is_(True))
    if (ids := query.ids("schedule", "Schedule")) is not None:
        statement = statement.where(Provider.id.in_(ids))
    statuses = query.tokens("status")
    wanted = query.tokens("specialty") or query.tokens("service-type")
    if end <= start:
        return Page(0, [])
    spans = []
    # Every provider with their hours and disciplines, and their appointments and absences over the range: a
    # handful of statements whatever the number of clinicians. Resources are made for the page only.
    chosen = statement.with_only_columns(Provider.id).order_by(None)
    tz = zone()
    providers = hours_of(chosen, {day.weekday() for day in local_days(start, end, tz)})
    ids = [provider.id for provider in providers]
    booked = booked_between(ids, start, end, chosen)
    away = away_between(ids, start, end, chosen)
    low, high = in_naive_utc(start), in_naive_utc(end)
    for provider in providers:
        found = provider_spans(provider, low, high, booked[provider.id], away[provider.id], tz)
        if statuses is not None or wanted:
            # A span is (start, provider, end, status, disciplines): a day's search at a network's scale makes a
            # thousand and more, as plain tuples (see SlotSpan).
            found = [span for span in found if (statuses is None or span[3] in statuses)
                     and (not wanted or not wanted.isdisjoint(span[4]))]
        spans += found
    # By start, then clinician, end and status (the spans' own order as tuples): the same order each time,
    # without formatting every span's id (at a network's scale a day has over a thousand spans, and only a page
    # of them is shown). Only the spans up to the page's end are put in order, by heapq.nsmallest.
    first = heapq.nsmallest(query.offset + query.count, spans)
    return Page(len(spans), [_slot(SlotSpan(*span)) for span in first[query.offset:]])


def read_slot(resource_id: str, user: User) -> dict:
    parsed = parse_slot_id(resource_id)
    if parsed is None:
        raise NotFound(f"No Slot {resource_id}.")
    provider_id, start, end = parsed
    provider = db.session.scalar(select(Provider).where(
        Provider.id == provider_id, provider_filter(user, Provider.id)))
    if provider is None:
        raise NotFound(f"No Slot {resource_id}.")
    # A margin around the slot, so that a slot reaching past it is not cut and its id still matches.
    spans = provider_slots(provider, start - timedelta(days=1), end + timedelta(days=1))
    return _one([_slot(span) for span in spans if span.id == resource_id], "Slot", resource_id)


def _slot(span: SlotSpan) -> dict:
    return resources.slot(span.id, span.provider_id, *span.bounds, span.status, list(span.disciplines))


# Appointment

def _phase_positions(plan_ids: set[int]) -> dict[tuple[int, str], int]:
    if not plan_ids:
        return {}
    rows = db.session.execute(select(Phase.plan_id, Phase.name, Phase.position).where(Phase.plan_id.in_(plan_ids)))
    return {(plan_id, name): position for plan_id, name, position in rows}


def based_on(row: Appointment, positions: dict[tuple[int, str], int]) -> str | None:
    """The phase's CarePlan when the appointment belongs to one, else the whole plan's."""
    if row.plan_id is None:
        return None
    position = positions.get((row.plan_id, row.phase_name))
    return resources.phase_id(row.plan_id, position) if position is not None else str(row.plan_id)


def appointment_resources(rows: list[Appointment]) -> list[dict]:
    positions = _phase_positions({r.plan_id for r in rows if r.plan_id is not None})
    return [resources.appointment(r, based_on(r, positions)) for r in rows]


def search_appointments(query: Query, user: User) -> Page:
    statement = (select(Appointment).where(patient_filter(user, Appointment.patient_id))
                 .order_by(Appointment.starts_at, Appointment.id)
                 .options(selectinload(Appointment.patient), selectinload(Appointment.provider)))
    if (ids := query.ids("_id")) is not None:
        statement = statement.where(Appointment.id.in_(ids))
    if (ids := query.ids("patient", "Patient")) is not None:
        statement = statement.where(Appointment.patient_id.in_(ids))
    if (ids := query.ids("practitioner", "Practitioner")) is not None:
        statement = statement.where(Appointment.provider_id.in_(ids))
    if (codes := query.tokens("status")) is not None:
        statement = statement.where(Appointment.status.in_(
            [ours for code in codes for ours in APPOINTMENT_STATUS_FROM_FHIR[code]]))
    if (codes := query.tokens("service-type")) is not None:
        statement = statement.where(Appointment.discipline_code.in_(codes))
    lower, upper = point_window(query.dates("date"))
    if lower is not None:
        statement = statement.where(Appointment.starts_at >= lower)
    if upper is not None:
        statement = statement.where(Appointment.starts_at < upper)
    return _sql_page(statement, query, appointment_resources)


# CarePlan and CareTeam

def _plans(query: Query, user: User, plan_ids: set[int] | None) -> list[CarePlan]:
    statement = (select(CarePlan).where(patient_filter(user, CarePlan.patient_id)).order_by(CarePlan.id)
                 .options(*WITH_LINES_AND_TEAM))
    if plan_ids is not None:
        statement = statement.where(CarePlan.id.in_(plan_ids))
    for name in ("patient", "subject"):
        if (ids := query.ids(name, "Patient")) is not None:
            statement = statement.where(CarePlan.patient_id.in_(ids))
    return list(db.session.scalars(statement))


def _team_providers(plans: list[CarePlan]) -> dict[int, Provider]:
    ids = {m.provider_id for p in plans for m in p.care_team}
    return {p.id: p for p in db.session.scalars(select(Provider).where(Provider.id.in_(ids)))} if ids else {}


def _patient_names(plans: list[CarePlan]) -> dict[int, str]:
    ids = {p.patient_id for p in plans}
    return {i: n for i, n in db.session.execute(select(Patient.id, Patient.name).where(Patient.id.in_(ids)))}


def search_care_teams(query: Query, user: User) -> Page:
    plans = _plans(query, user, query.ids("_id"))
    providers, names = _team_providers(plans), _patient_names(plans)
    found = [resources.care_team(p, names[p.patient_id], providers) for p in plans]
    if (codes := query.tokens("status")) is not None:
        found = [r for r in found if r["status"] in codes]
    return _list_page(found, query)


def _care_plan_ids(query: Query) -> tuple[set[int] | None, set[str] | None]:
    """`_id` names plan-level ids ("12") or phase ids ("12-phase-2"); both narrow the plans to load."""
    wanted = query.strings("_id")
    if wanted is None:
        return None, None
    plan_ids = {_record_id(value.split("-phase-")[0]) for value in wanted}
    return plan_ids, set(wanted)


def search_care_plans(query: Query, user: User) -> Page:
    plan_ids, wanted = _care_plan_ids(query)
    plans = _plans(query, user, plan_ids)
    providers, names = _team_providers(plans), _patient_names(plans)
    by_phase: dict[tuple[int, str | None], list[Appointment]] = defaultdict(list)
    if plans:
        for row in db.session.scalars(select(Appointment).where(Appointment.plan_id.in_([p.id for p in plans]))
                                      .order_by(Appointment.starts_at, Appointment.id)):
            by_phase[(row.plan_id, row.phase_name)].append(row)
    today = to_local(utcnow()).date()
    found = []
    for plan in plans:
        phase_names = {phase.name for phase in plan.phases}
        loose = [a for (plan_id, name), rows in by_phase.items() if plan_id == plan.id and name not in phase_names
                 for a in rows]
        found.append(resources.plan_care_plan(plan, names[plan.patient_id], providers, loose))
        found += [resources.phase_care_plan(plan, phase, names[plan.patient_id], providers,
                                            by_phase[(plan.id, phase.name)], today) for phase in plan.phases]
    if wanted is not None:
        found = [r for r in found if r["id"] in wanted]
    if (codes := query.tokens("status")) is not None:
        found = [r for r in found if r["status"] in codes]
    for criterion in query.dates("date"):
        found = [r for r in found if criterion.matches_period(*_period_bounds(r["period"]))]
    return _list_page(found, query)


def _period_bounds(period: dict) -> tuple[datetime, datetime]:
    first = datetime.fromisoformat(period["start"]).date()
    last = datetime.fromisoformat(period["end"]).date()
    return local_datetime(first, time(0)), local_datetime(last + timedelta(days=1), time(0))


# Location (the sites and their rooms) and HealthcareService (the disciplines): every signed-in user may read them.

def search_locations(query: Query, user: User) -> Page:
    sites = list(db.session.scalars(select(Location).order_by(Location.id)))
    rooms = list(db.session.scalars(select(Room).order_by(Room.location_id, Room.id)))
    found = [resources.location_site(s) for s in sites] + [resources.location_room(r) for r in rooms]
    if (ids := query.tokens("_id")) is not None:
        found = [r for r in found if r["id"] in ids]
    if (names := query.strings("name")) is not None:
        found = [r for r in found if any(n in r["name"].lower() for n in names)]
    if (parts := query.tokens("partof")) is not None:
        wanted = {p.rpartition("/")[2] for p in parts}
        found = [r for r in found if r.get("partOf", {}).get("reference", "").rpartition("/")[2] in wanted]
    return _list_page(found, query)


def search_healthcare_services(query: Query, user: User) -> Page:
    sites = list(db.session.scalars(select(Location).where(Location.active.is_(True)).order_by(Location.id)))
    found = [resources.healthcare_service(d, sites)
             for d in db.session.scalars(select(Discipline).order_by(Discipline.code))]
    if (ids := query.tokens("_id")) is not None:
        found = [r for r in found if r["id"] in ids]
    if (active := query.tokens("active")) is not None:
        found = [r for r in found if ("true" if r["active"] else "false") in active]
    return _list_page(found, query)


@dataclass(frozen=True)
class ResourceType:
    name: str
    params: dict[str, str]
    search: Callable[[Query, User], Page]
    read: Callable[[str, User], dict] | None = None
    documentation: str = ""


def _registry() -> dict[str, ResourceType]:
    types = [
        ResourceType("Patient", {"_id": "token", "name": "string", "email": "token"}, search_patients,
                     documentation="Patients the caller may see: staff all, providers their care teams' patients, "
                                   "a patient themself."),
        ResourceType("Practitioner", {"_id": "token", "name": "string", "active": "token"}, search_practitioners),
        ResourceType("PractitionerRole", {"_id": "token", "practitioner": "reference", "specialty": "token",
                                          "active": "token"}, search_practitioner_roles,
                     documentation="A provider's disciplines and weekly hours; same id as the Practitioner."),
        ResourceType("Schedule", {"_id": "token", "actor": "reference", "specialty": "token",
                                  "service-type": "token", "active": "token"}, search_schedules,
                     documentation="One per provider, same id; staff see all, a provider their own."),
        ResourceType("Slot", {"schedule": "reference", "start": "date", "status": "token", "specialty": "token",
                              "service-type": "token"}, search_slots, read_slot,
                     documentation=f"Computed free/busy time; at most {SLOT_RANGE_LIMIT.days} days per search "
                                   f"(default: {SLOT_RANGE_DEFAULT.days} days from today)."),
        ResourceType("Appointment", {"_id": "token", "patient": "reference", "practitioner": "reference",
                                     "date": "date", "status": "token", "service-type": "token"},
                     search_appointments),
        ResourceType("CareTeam", {"_id": "token", "patient": "reference", "subject": "reference",
                                  "status": "token"}, search_care_teams,
                     documentation="One per care plan, same id as the plan."),
        ResourceType("CarePlan", {"_id": "token", "patient": "reference", "subject": "reference",
                                  "status": "token", "date": "date"}, search_care_plans,
                     documentation="One per plan (id = the plan's id) and one per phase (id <plan>-phase-<n>), "
                                   "each phase partOf its plan."),
        ResourceType("Location", {"_id": "token", "name": "string", "partof": "reference"}, search_locations,
                     documentation="The clinic's sites (id <n>, the API's) and their rooms (id room-<n>, partOf the site)."),
        ResourceType("HealthcareService", {"_id": "token", "active": "token"}, search_healthcare_services,
                     documentation="One per discipline (id: its code, _ as -), at the open sites."),
    ]
    registry = {}
    for kind in types:
        read = kind.read or _by_id(kind.name, kind.search, kind.params)
        registry[kind.name] = ResourceType(kind.name, kind.params, kind.search, read, kind.documentation)
    return registry


RESOURCE_TYPES = _registry()
