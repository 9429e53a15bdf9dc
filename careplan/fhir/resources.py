"""Our records as FHIR R4 resources (plain dicts in FHIR's JSON form).

Mapping decisions, in one place:
* A care plan is one plan-level CarePlan (id = the plan's id) and one CarePlan
  per phase (id `<plan>-phase-<position>`), each phase `partOf` the plan-level
  one. Pointing every phase at the whole plan, rather than at the phase
  before, lets a client fetch a plan's phases with one search and survives a
  phase being inserted or dropped.
* The care team of a plan is a CareTeam with the plan's id.
* A provider is a Practitioner, a PractitionerRole (their disciplines and
  weekly hours) and a Schedule, all three with the provider's id.
* Disciplines are clinic data, so they are codes of the clinic's own system.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta


from careplan.clinic import service as clinic
from careplan.clinic.service import DAYS, to_local
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.plans.models import CarePlan, Phase
from careplan.providers.models import Provider
from careplan.rooms.models import Location, Room
from careplan.scheduling.models import Appointment

DISCIPLINE_SYSTEM = "urn:careplan:discipline"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"

# Our statuses in FHIR's words; the patient's own answer is carried by their participant status.
APPOINTMENT_STATUS = {"booked": "booked", "confirmed": "booked", "cancelled": "cancelled",
                      "completed": "fulfilled", "no_show": "noshow"}
PATIENT_PARTICIPATION = {"booked": "needs-action", "confirmed": "accepted", "cancelled": "declined",
                         "completed": "accepted", "no_show": "accepted"}
PLAN_STATUS = {"draft": "draft", "booked": "active", "active": "active", "completed": "completed",
               "cancelled": "revoked"}
CARE_TEAM_STATUS = {"draft": "proposed", "booked": "active", "active": "active", "completed": "inactive",
                    "cancelled": "inactive"}
ACTIVITY_STATUS = {"draft": "not-started", "booked": "scheduled", "active": "in-progress",
                   "completed": "completed", "cancelled": "cancelled"}


def instant(moment: datetime) -> str:
    return to_local(moment).isoformat()


def reference(resource_type: str, resource_id, display: str | None = None) -> dict:
    ref = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def _discipline_names() -> dict[str, str]:
    # Once per database session (a request or a job), not per resource.
    info = db.session.info
    if "careplan.fhir.disciplines" not in info:
        info["careplan.fhir.disciplines"] = {d.code: d.name for d in clinic.disciplines(include_inactive=True)}
    return info["careplan.fhir.disciplines"]


def discipline(code: str) -> dict:
    name = _discipline_names().get(code, code)
    return {"coding": [{"system": DISCIPLINE_SYSTEM, "code": code, "display": name}], "text": name}


def _telecom(email: str, phone: str, use: str) -> list[dict]:
    telecom = [{"system": "email", "value": email, "use": use}]
    if phone:
        telecom.append({"system": "phone", "value": phone, "use": use})
    return telecom


def patient(row: Patient) -> dict:
    resource = {"resourceType": "Patient", "id": str(row.id), "active": True,
                "name": [{"use": "usual", "text": row.name}], "telecom": _telecom(row.email, row.phone, "home")}
    if row.date_of_birth:
        resource["birthDate"] = row.date_of_birth.isoformat()
    return resource


def practitioner(row: Provider) -> dict:
    return {"resourceType": "Practitioner", "id": str(row.id), "active": row.active,
            "name": [{"use": "usual", "text": row.name}], "telecom": _telecom(row.email, row.phone, "work")}


def practitioner_role(row: Provider, now: datetime, *, with_reasons: bool) -> dict:
    """with_reasons: whether the reader may see why the provider is away (patients may not)."""
    resource = {"resourceType": "PractitionerRole", "id": str(row.id), "active": row.active,
                "practitioner": reference("Practitioner", row.id, row.name),
                "specialty": [discipline(code) for code in row.discipline_codes]}
    # Windows with the same hours on several days become one entry, as FHIR's availableTime groups days.
    hours: dict[tuple, list[str]] = {}
    for window in row.availability:
        hours.setdefault((window.start, window.end), []).append(DAYS[window.day])
    if hours:
        resource["availableTime"] = [
            {"daysOfWeek": days, "availableStartTime": start.strftime("%H:%M:%S"),
             "availableEndTime": end.strftime("%H:%M:%S")}
            for (start, end), days in sorted(hours.items())]
    absences = [off for off in row.time_off if off.ends_at > now]
    if absences:
        resource["notAvailable"] = [
            {"description": (off.reason if with_reasons else "") or "Away", "during": {"start": instant(off.starts_at), "end": instant(off.ends_at)}}
            for off in absences]
    return resource


def schedule(row: Provider) -> dict:
    services = [discipline(code) for code in row.discipline_codes]
    resource = {"resourceType": "Schedule", "id": str(row.id), "active": row.active,
                "actor": [reference("Practitioner", row.id, row.name)]}
    if services:
        resource["serviceType"] = services
        resource["specialty"] = services
    return resource


def slot(slot_id: str, provider_id: int, start: datetime, end: datetime, status: str, codes: list[str]) -> dict:
    resource = {"resourceType": "Slot", "id": slot_id, "schedule": reference("Schedule", provider_id),
                "status": status, "start": instant(start), "end": instant(end)}
    if codes:
        resource["serviceType"] = [discipline(code) for code in codes]
        resource["specialty"] = [discipline(code) for code in codes]
    return resource


def appointment(row: Appointment, based_on: str | None) -> dict:
    title = _discipline_names().get(row.discipline_code, row.discipline_code)
    resource = {
        "resourceType": "Appointment", "id": str(row.id), "status": APPOINTMENT_STATUS[row.status],
        "serviceType": [discipline(row.discipline_code)], "specialty": [discipline(row.discipline_code)],
        "description": f"{title} {row.kind}",
        "start": instant(row.starts_at), "end": instant(row.ends_at), "minutesDuration": row.minutes,
        "created": instant(row.created_at),
        "participant": [
            {"actor": reference("Patient", row.patient_id, row.patient.name), "required": "required",
             "status": PATIENT_PARTICIPATION[row.status]},
            {"type": [{"coding": [{"system": PARTICIPATION_SYSTEM, "code": "PPRF", "display": "primary performer"}]}],
             "actor": reference("Practitioner", row.provider_id, row.provider.name), "required": "required",
             "status": "declined" if row.status == "cancelled" else "accepted"},
        ],
    }
    # Where it is held (issue 20): the room when one is held, else the site; a video session has neither.
    if row.room_id is not None:
        resource["participant"].append({"actor": reference("Location", room_id(row.room_id), row.room.name),
                                        "required": "required", "status": "accepted"})
    elif row.location_id is not None:
        resource["participant"].append({"actor": reference("Location", site_id(row.location_id), row.location.name),
                                        "required": "required", "status": "accepted"})
    if row.virtual:
        resource["description"] += " (by video)"
    if based_on:
        resource["basedOn"] = [reference("CarePlan", based_on)]
    if row.status == "cancelled":
        resource["cancelationReason"] = {"text": row.cancel_reason or "Cancelled"}
    return resource


def care_team(plan: CarePlan, patient_name: str, providers: dict[int, Provider]) -> dict:
    resource = {"resourceType": "CareTeam", "id": str(plan.id), "status": CARE_TEAM_STATUS[plan.status],
                "name": f"Care team of {patient_name}",
                "subject": reference("Patient", plan.patient_id, patient_name),
                "period": {"start": plan.start_date.isoformat()}}
    if plan.care_team:
        resource["participant"] = [
            {"role": [discipline(member.discipline_code)],
             "member": reference("Practitioner", member.provider_id, providers[member.provider_id].name)}
            for member in plan.care_team]
    return resource


def phase_id(plan_id: int, position: int) -> str:
    return f"{plan_id}-phase-{position}"


def phase_dates(plan: CarePlan) -> dict[int, tuple[date, date]]:
    """Each phase's first day and the day after its last, phases following one another from the plan's start."""
    dates, start = {}, plan.start_date
    for phase in plan.phases:
        end = start + timedelta(weeks=phase.weeks)
        dates[phase.position] = (start, end)
        start = end
    return dates


def _period(start: date, end: date) -> dict:
    # FHIR's period end is the last day, inclusive.
    return {"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()}


def phase_status(plan: CarePlan, end: date, today: date) -> str:
    if plan.status in ("booked", "active") and end <= today:
        return "completed"
    return PLAN_STATUS[plan.status]


def _plan_common(plan: CarePlan, patient_name: str, status: str) -> dict:
    return {"resourceType": "CarePlan", "status": status, "intent": "plan",
            "subject": reference("Patient", plan.patient_id, patient_name),
            "careTeam": [reference("CareTeam", plan.id)], "created": instant(plan.created_at)}


def _session_detail(plan: CarePlan, code: str, status: str, providers: dict[int, Provider],
                    timing: dict | None, description: str | None = None) -> dict:
    """Sessions of one discipline, performed by the plan's provider for it when the team has one."""
    detail = {"kind": "Appointment", "code": discipline(code), "status": status}
    if description:
        detail["description"] = description
    if timing:
        detail["scheduledTiming"] = timing
    performer = [reference("Practitioner", m.provider_id, providers[m.provider_id].name)
                 for m in plan.care_team if m.discipline_code == code]
    if performer:
        detail["performer"] = performer
    return detail


def _with_activities(resource: dict, details: list[dict], appointments: list[Appointment]) -> dict:
    # A CarePlan activity is either a planned detail or a reference to what was booked, never both.
    activities = [{"detail": d} for d in details] + [{"reference": reference("Appointment", a.id)}
                                                     for a in appointments]
    if activities:
        resource["activity"] = activities
    return resource


def plan_care_plan(plan: CarePlan, patient_name: str, providers: dict[int, Provider],
                   appointments: list[Appointment]) -> dict:
    """The whole plan; its activities are the opening assessment and what belongs to no phase."""
    dates = phase_dates(plan)
    end = max((e for _s, e in dates.values()), default=plan.start_date + timedelta(days=1))
    resource = {**_plan_common(plan, patient_name, PLAN_STATUS[plan.status]), "id": str(plan.id),
                "title": f"{plan.condition.capitalize()} care plan",
                "description": f"{plan.condition.capitalize()}, {plan.region} region, {plan.severity}; version {plan.version}.",
                "period": _period(plan.start_date, end)}
    details = []
    if plan.assessment_discipline:
        timing = ({"repeat": {"count": 1, "duration": plan.assessment_minutes, "durationUnit": "min"}}
                  if plan.assessment_minutes else None)
        details.append(_session_detail(plan, plan.assessment_discipline, ACTIVITY_STATUS[plan.status], providers,
                                       timing, "Opening assessment"))
    return _with_activities(resource, details, appointments)


def phase_care_plan(plan: CarePlan, phase: Phase, patient_name: str, providers: dict[int, Provider],
                    appointments: list[Appointment], today: date) -> dict:
    start, end = phase_dates(plan)[phase.position]
    resource = {**_plan_common(plan, patient_name, phase_status(plan, end, today)),
                "id": phase_id(plan.id, phase.position), "partOf": [reference("CarePlan", plan.id)],
                "title": f"{phase.name.capitalize()} phase", "period": _period(start, end)}
    if phase.purpose:
        resource["description"] = phase.purpose
    status = ACTIVITY_STATUS[plan.status] if resource["status"] != "completed" else "completed"
    details = [_session_detail(plan, line.discipline_code, status, providers, {"repeat": {
        "boundsPeriod": _period(start, end), "frequency": line.per_week, "period": line.every_weeks,
        "periodUnit": "wk", "duration": line.minutes, "durationUnit": "min"}}) for line in phase.lines]
    return _with_activities(resource, details, appointments)


# --- Location and HealthcareService (issue 20) ---------------------------------------------------------------

def site_id(location_id: int) -> str:
    """A site's Location id is the API's id (the service contract); a room's is room-<id>, so the two never meet."""
    return str(location_id)


def room_id(room_id_: int) -> str:
    return f"room-{room_id_}"


def _physical(code: str, display: str) -> dict:
    return {"coding": [{"system": PHYSICAL_TYPE_SYSTEM, "code": code, "display": display}]}


def location_site(row: Location) -> dict:
    resource = {"resourceType": "Location", "id": site_id(row.id), "status": "active" if row.active else "inactive",
                "name": row.name, "mode": "instance", "physicalType": _physical("si", "Site")}
    if row.address:
        resource["address"] = {"text": row.address}
    return resource


def location_room(row: Room) -> dict:
    """A room (or a piece of equipment) as a Location part of its site; its kind and capacity as text."""
    return {"resourceType": "Location", "id": room_id(row.id), "status": "active" if row.active else "inactive",
            "name": row.name, "mode": "instance", "physicalType": _physical("ro", "Room"),
            "description": f"{row.kind}, for {row.capacity} at once",
            "partOf": reference("Location", site_id(row.location_id), row.location.name)}


def healthcare_service(row, sites: list[Location]) -> dict:
    """A discipline the clinic offers, at its open sites."""
    resource = {"resourceType": "HealthcareService", "id": row.code.replace("_", "-"), "active": row.active,
                "name": row.name, "type": [discipline(row.code)], "specialty": [discipline(row.code)],
                "appointmentRequired": True}
    if sites:
        resource["location"] = [reference("Location", site_id(s.id), s.name) for s in sites]
    return resource
