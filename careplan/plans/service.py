"""Care plans: built from an intake and a protocol template, revised with a kept history, adjusted by clinicians.

For the booking capability: `mark_booked(plan)` when a plan's schedule is booked, and
`stale_appointments(plan)` for the future appointments a clinician's change left behind.
"""
from __future__ import annotations

import copy
from datetime import date

from sqlalchemy import or_, select

from careplan.audit.service import record
from careplan.caller import Caller
from careplan.clinic.service import to_local
from careplan.db import utcnow
from careplan.errors import Conflict, Invalid, NotFound
from careplan.extensions import db
from careplan.intake.service import check_no_red_flag, get_intake
from careplan.patients.service import get_patient
from careplan.plans.models import CarePlan, CarePlanVersion, CareTeamMember, Phase, SessionLine
from careplan.protocols.models import CONDITIONS
from careplan.protocols.service import apply_conditions, current_template, discipline_problems, get_template
from careplan.providers.models import Provider
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment
from careplan.records import get_or_404
from careplan.versions import check_version

# Which status may follow which. `booked` is reached only through mark_booked, by the booking itself.
TRANSITIONS = {
    "draft": {"booked", "cancelled"},
    "booked": {"active", "cancelled"},
    "active": {"completed", "cancelled"},
    "completed": set(),
    "cancelled": set(),
}


def clinic_today() -> date:
    return to_local(utcnow()).date()


def snapshot(plan: CarePlan) -> dict:
    """The whole plan as plain data, as a version keeps it."""
    return {
        "status": plan.status,
        "start_date": plan.start_date.isoformat(),
        "assessment": plan.assessment,
        "phases": [{"name": p.name, "weeks": p.weeks, "purpose": p.purpose,
                    "sessions": [{"discipline": line.discipline_code, "per_week": line.per_week,
                                  "every_weeks": line.every_weeks, "minutes": line.minutes,
                                  "min_gap_days": line.min_gap_days, "mode": line.mode} for line in p.lines]}
                   for p in plan.phases],
        "care_team": [{"discipline": m.discipline_code, "provider_id": m.provider_id, "required": bool(m.required)}
                      for m in plan.care_team],
    }


def _record_version(plan: CarePlan, reason: str, caller: Caller) -> None:
    first = not plan.versions
    if not first:
        plan.version += 1
    db.session.flush()
    # Every change of a plan makes a version, so this is where each one is audited.
    record("create" if first else "update", "plan", plan.id, plan.patient_id,
           detail=f"version {plan.version} ({plan.status}): {reason}", caller=caller)
    # Expire so the snapshot sees phases and lines in their stored order after a replacement.
    db.session.expire(plan, ["phases", "care_team"])
    plan.versions.append(CarePlanVersion(version=plan.version, reason=reason, created_by_id=caller.user_id,
                                         snapshot=snapshot(plan)))


def _phases(phases: list[dict]) -> list[Phase]:
    return [Phase(position=i, name=p["name"], weeks=p["weeks"], purpose=p["purpose"],
                  lines=[SessionLine(discipline_code=s["discipline"], per_week=s["per_week"],
                                     every_weeks=s.get("every_weeks", 1), minutes=s["minutes"],
                                     min_gap_days=s.get("min_gap_days", 1), mode=s.get("mode", "in_person"))
                         for s in p["sessions"]])
            for i, p in enumerate(phases)]


def _check_disciplines(assessment: dict | None, phases: list[dict]) -> None:
    problems = discipline_problems(assessment, phases)
    if problems:
        raise Invalid("The plan names a discipline the clinic does not offer.", fields=problems)


def _set_team(plan: CarePlan, team: list[dict]) -> None:
    """One provider per discipline the plan uses, active and practising that discipline."""
    used = plan.disciplines
    problems = {}
    seen = set()
    for i, member in enumerate(team):
        provider = db.session.get(Provider, member["provider_id"])
        if member["discipline"] in seen:
            problems[f"care_team[{i}].discipline"] = "has a provider already"
        elif member["discipline"] not in used:
            problems[f"care_team[{i}].discipline"] = f"the plan has no {member['discipline']} sessions"
        elif provider is None or not provider.active:
            problems[f"care_team[{i}].provider_id"] = f"no active provider {member['provider_id']}"
        elif member["discipline"] not in provider.discipline_codes:
            problems[f"care_team[{i}].provider_id"] = f"{provider.name} does not practise {member['discipline']}"
        seen.add(member["discipline"])
    if problems:
        raise Invalid("The care team does not fit the plan.", fields=problems)
    plan.care_team = [CareTeamMember(discipline_code=m["discipline"], provider_id=m["provider_id"],
                                     required=bool(m.get("required", False))) for m in team]


def _template_for(data: dict, region: str, severity: str, condition: str):
    if data.get("template_id"):
        template = get_template(data["template_id"])
        if (template.region, template.severity, template.condition) != (region, severity, condition):
            raise Invalid(f"Template {template.id} is for {template.severity} {template.region} "
                          f"{template.condition}, not {severity} {region} {condition}.",
                          fields={"template_id": "does not match the region and severity"})
        return template
    template = current_template(condition, region, severity)
    if template is None:
        raise Invalid(f"The clinic has no protocol for {severity} {region} {condition}; an admin adds one.",
                      fields={"severity": "no protocol template"})
    return template


def build_plan(data: dict, *, caller: Caller) -> CarePlan:
    """A draft plan from an intake (or from a patient, region and severity) and the matching template."""
    if data.get("intake_id"):
        intake = get_intake(data["intake_id"])
        if data.get("patient_id") and data["patient_id"] != intake.patient_id:
            raise Invalid("The intake is another patient's.", fields={"patient_id": "not the intake's patient"})
        patient_id, condition, region, severity = intake.patient_id, intake.condition, intake.region, intake.severity
        conditions, referral = intake.conditions, intake.referral_signs
    else:
        missing = {k: "required without an intake_id" for k in ("patient_id", "region", "severity") if not data.get(k)}
        if missing:
            raise Invalid("Give an intake, or a patient, region and severity.", fields=missing)
        intake = None
        patient_id, condition, region, severity = data["patient_id"], "radiculopathy", data["region"], data["severity"]
        conditions = {name for name in CONDITIONS if data.get(name)}
        referral = []
    get_patient(patient_id)
    check_no_red_flag(patient_id, intake)
    template = _template_for(data, region, severity, condition)
    plan = CarePlan(patient_id=patient_id, status="draft", condition=condition, region=region, severity=severity,
                    start_date=data.get("start_date") or clinic_today(), version=1,
                    intake_id=intake.id if intake else None, template_id=template.id,
                    template_snapshot={"id": template.id, "version": template.version, "name": template.name,
                                       **copy.deepcopy(template.body)},
                    referral_signs=referral, created_by_id=caller.user_id,
                    assessment_discipline=(template.assessment or {}).get("discipline"),
                    assessment_minutes=(template.assessment or {}).get("minutes"),
                    phases=_phases(apply_conditions(template, conditions)))
    _set_team(plan, data.get("care_team") or [])
    db.session.add(plan)
    reason = data.get("reason") or f"Built from {template.name}, version {template.version}."
    _record_version(plan, reason, caller)
    db.session.commit()
    return plan


def get_plan(plan_id: int) -> CarePlan:
    return get_or_404(CarePlan, plan_id, f"No care plan {plan_id}.")


def list_plans(*, caller: Caller, patient_id: int | None = None, status: str | None = None):
    """The plans the caller may see: staff all, a provider those of patients they treat, a patient their own."""
    user = caller.user
    query = select(CarePlan).order_by(CarePlan.created_at.desc(), CarePlan.id.desc())
    if patient_id is not None:
        query = query.where(CarePlan.patient_id == patient_id)
    if status:
        query = query.where(CarePlan.status == status)
    if user.role == "provider":
        via_team = select(CarePlan.patient_id).join(CareTeamMember).where(
            CareTeamMember.provider_id == user.provider_id)
        via_appointment = select(Appointment.patient_id).where(Appointment.provider_id == user.provider_id)
        query = query.where(or_(CarePlan.patient_id.in_(via_team), CarePlan.patient_id.in_(via_appointment)))
    elif user.role == "patient":
        query = query.where(CarePlan.patient_id == user.patient_id)
    return query


def revise_plan(plan_id: int, changes: dict, *, caller: Caller, expected_version=None) -> CarePlan:
    """The front desk's change to a draft: start date, assessment, phases and lines, care team; a new version.

    `expected_version` (here and in set_status, change_phase): the version the caller read
    (careplan.versions); None applies the change anyway."""
    plan = get_plan(plan_id)
    check_version(plan, expected_version)
    if plan.status != "draft":
        raise Conflict(f"Plan {plan_id} is {plan.status}; only a draft plan is changed this way "
                       "(a clinician adjusts the phases of an active plan).", fields={"status": plan.status})
    if "start_date" in changes:
        plan.start_date = changes["start_date"]
    if "assessment" in changes or "phases" in changes:
        assessment = changes["assessment"] if "assessment" in changes else plan.assessment
        phases = changes.get("phases")
        _check_disciplines(assessment, phases or [])
        plan.assessment_discipline = assessment["discipline"] if assessment else None
        plan.assessment_minutes = assessment["minutes"] if assessment else None
        if phases is not None:
            plan.phases = []
            db.session.flush()
            plan.phases = _phases(phases)
    team = changes["care_team"] if "care_team" in changes else [
        {"discipline": m.discipline_code, "provider_id": m.provider_id, "required": m.required}
        for m in plan.care_team]
    if "care_team" in changes or "assessment" in changes or "phases" in changes:
        plan.care_team = []
        db.session.flush()
        _set_team(plan, team)
    _record_version(plan, changes["reason"], caller)
    db.session.commit()
    return plan


def _transition(plan: CarePlan, status: str) -> None:
    if status not in TRANSITIONS[plan.status]:
        raise Conflict(f"A {plan.status} plan cannot become {status}.", fields={"status": f"not after {plan.status}"})
    plan.status = status


def set_status(plan_id: int, status: str, reason: str, *, caller: Caller,
               expected_version=None) -> CarePlan:
    """Start (booked -> active), complete or cancel a plan; booking itself goes through mark_booked."""
    plan = get_plan(plan_id)
    check_version(plan, expected_version)
    if status == "booked":
        raise Invalid("A plan becomes booked when its schedule is booked.", fields={"status": "set by booking"})
    _transition(plan, status)
    _record_version(plan, reason, caller)
    db.session.commit()
    return plan


def mark_booked(plan: CarePlan, *, caller: Caller, reason: str = "Schedule booked.") -> CarePlan:
    """draft -> booked, with a version. Does not commit: the booking that calls it commits it with its
    appointments, so the plan and its appointments change together or not at all."""
    _transition(plan, "booked")
    _record_version(plan, reason, caller)
    db.session.flush()
    return plan


def current_plan_week(plan: CarePlan, today: date | None = None) -> int:
    return ((today or clinic_today()) - plan.week_zero).days // 7


def change_phase(plan_id: int, phase_name: str, change: dict, *, caller: Caller,
                 today: date | None = None, expected_version=None) -> CarePlan:
    """A clinician extends, shortens or advances (ends this week) a phase of an active plan; a new version."""
    plan = get_plan(plan_id)
    check_version(plan, expected_version)
    if plan.status != "active":
        raise Conflict(f"Plan {plan_id} is {plan.status}; a clinician adjusts the phases of an active plan.",
                       fields={"status": plan.status})
    phase = next((p for p in plan.phases if p.name == phase_name), None)
    if phase is None:
        raise NotFound(f"Plan {plan_id} has no {phase_name} phase.")
    week = current_plan_week(plan, today)
    first = phase.first_week
    if first + phase.weeks <= week:
        raise Conflict(f"The {phase.name} phase is over; it cannot be changed any more.")
    # A phase cannot end before the week that is running now: past weeks are history.
    least = max(1, week - first + 1)
    if change["change"] == "extend":
        phase.weeks += change["weeks"]
    elif change["change"] == "shorten":
        if phase.weeks - change["weeks"] < least:
            raise Invalid(f"The {phase.name} phase can be shortened to {least} week(s) at most.",
                          fields={"weeks": f"at most {phase.weeks - least}"})
        phase.weeks -= change["weeks"]
    else:
        if week < first:
            raise Conflict(f"The {phase.name} phase has not started; shorten it instead.")
        if phase.weeks == least:
            raise Conflict(f"The {phase.name} phase ends this week already.")
        phase.weeks = least
    _record_version(plan, change["reason"], caller)
    db.session.commit()
    return plan


def stale_with_reasons(plan: CarePlan, now=None) -> list[tuple[Appointment, str]]:
    """Future, live appointments of this plan that the plan no longer asks for, each with why."""
    appointments = db.session.scalars(select(Appointment).where(
        Appointment.plan_id == plan.id, Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.starts_at > (now or utcnow())).order_by(Appointment.starts_at, Appointment.id))
    phases = {p.name: p for p in plan.phases}
    stale = []
    taken: dict[tuple[str, int, str], int] = {}
    for appointment in appointments:
        if appointment.kind == "assessment":
            if plan.assessment_discipline != appointment.discipline_code:
                stale.append((appointment, "the plan has no such assessment any more"))
            continue
        phase = phases.get(appointment.phase_name or "")
        if phase is None:
            stale.append((appointment, f"the plan has no {appointment.phase_name} phase any more"))
            continue
        week = appointment.plan_week if appointment.plan_week is not None else -1
        # The reasons are read by people, who count a plan's weeks from 1 (plan_week counts from 0).
        if not phase.first_week <= week < phase.first_week + phase.weeks:
            stale.append((appointment, f"plan week {week + 1} is no longer in the {phase.name} phase"))
            continue
        line = next((l for l in phase.lines if l.discipline_code == appointment.discipline_code), None)
        if line is None or not line.due_in(week):
            stale.append((appointment, f"the {phase.name} phase asks for no {appointment.discipline_code} "
                                       f"in plan week {week + 1}"))
            continue
        key = (phase.name, week, line.discipline_code)
        taken[key] = taken.get(key, 0) + 1
        if taken[key] > line.per_week:
            stale.append((appointment, f"more {line.discipline_code} sessions in plan week {week + 1} "
                                       f"than the {line.per_week} the plan asks for"))
    return stale


def stale_appointments(plan: CarePlan) -> list[Appointment]:
    """The future, not cancelled appointments of this plan that no longer match it (to re-book or cancel)."""
    return [appointment for appointment, _ in stale_with_reasons(plan)]


def versions(plan_id: int) -> list[CarePlanVersion]:
    return get_plan(plan_id).versions


# --- what the pages list ----------------------------------------------------------------------------------

def plans_waiting() -> list[tuple[CarePlan, "Patient"]]:
    """Draft plans, oldest first: the front desk's queue of plans to schedule and book."""
    from careplan.patients.models import Patient

    query = (select(CarePlan, Patient).join(Patient, Patient.id == CarePlan.patient_id)
             .where(CarePlan.status == "draft").order_by(CarePlan.created_at, CarePlan.id))
    return [(plan, patient) for plan, patient in db.session.execute(query)]


def plans_of(patient_id: int, *, include_cancelled: bool = True) -> list[CarePlan]:
    from careplan.plans.models import WITH_LINES_AND_TEAM

    query = (select(CarePlan).where(CarePlan.patient_id == patient_id)
             .options(*WITH_LINES_AND_TEAM)
             .order_by(CarePlan.start_date.desc(), CarePlan.id.desc()))
    if not include_cancelled:
        query = query.where(CarePlan.status != "cancelled")
    return list(db.session.scalars(query))


def plans_by_id(ids) -> list[CarePlan]:
    from sqlalchemy.orm import selectinload

    ids = {i for i in ids if i is not None}
    if not ids:
        return []
    return list(db.session.scalars(select(CarePlan).where(CarePlan.id.in_(ids)).options(
        selectinload(CarePlan.patient))))
