"""From a patient's intake to a plan: the red-flag screen, building the plan, and the plan editor."""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from careplan.audit.service import record
from careplan.auth.access import STAFF, can_reach_patient
from careplan.auth.edge import current_user, request_caller
from careplan.clinic import service as clinic
from careplan.errors import ServiceError
from careplan.extensions import db
from careplan.intake import service as intakes
from careplan.intake.models import RED_FLAGS, REFERRAL_SIGNS
from careplan.intake.schemas import DAILY_ACTIVITIES, SIDES, IntakeSchema
from careplan.patients.service import find_patient
from careplan.plans import service as plans
from careplan.plans.schemas import PlanCreateSchema, PlanRevisionSchema
from careplan.protocols.models import CONDITIONS, REGIONS, SEVERITIES
from careplan.providers.models import Provider
from careplan.web import bp
from careplan.web.access import page_for, patient_in_reach
from careplan.web.forms import CHANGED, form_version, input_errors, load, submit, text
from careplan.auth import service as accounts
from careplan.providers import service as providers

# Who may write the override of a red flag: a clinician's decision, never the front desk's.
OVERRIDERS = ("admin", "provider")


def form_errors(fields: dict[str, str]) -> dict[str, str]:
    """Schema paths as input names: phases[0].sessions[1].minutes -> phases-0-sessions-1-minutes."""
    renamed = {re.sub(r"\[(\d+)\]\.?", r"-\1-", path).replace(".", "-").strip("-"): message
               for path, message in fields.items()}
    return input_errors(renamed)


def _intake_form(form: MultiDict) -> dict:
    data = text(form, "region", "side", "preferences")
    data["symptoms"] = [line.strip() for line in form.get("symptoms", "").splitlines() if line.strip()]
    if form.get("severity"):
        data["severity"] = form["severity"]
    else:
        answers = text(form, "pain_score", "daily_activities")
        answers["worsening"] = form.get("worsening", "")
        data["severity_answers"] = {key: value for key, value in answers.items() if value != ""}
    # Every red-flag question is answered yes or no; an unanswered one stays missing and is refused.
    data["red_flags"] = {name: form[f"red_flags-{name}"] == "yes" for name in RED_FLAGS
                         if form.get(f"red_flags-{name}") in ("yes", "no")}
    data["referral_signs"] = {name: form.get(f"referral_signs-{name}") == "on" for name in REFERRAL_SIGNS}
    for flag in CONDITIONS:
        data[flag] = form.get(flag) == "on"
    return data


def _intake_choices() -> dict:
    return {"regions": REGIONS, "sides": SIDES, "severities": SEVERITIES, "daily_activities": DAILY_ACTIVITIES,
            "red_flags": RED_FLAGS, "referral_signs": REFERRAL_SIGNS}


@bp.route("/desk/patients/<int:patient_id>/intake", methods=["GET", "POST"])
@page_for(*STAFF)
def desk_intake_new(patient_id: int):
    patient = patient_in_reach(patient_id)
    form, errors = MultiDict(), {}
    if request.method == "POST":
        form = request.form
        loaded, errors = load(IntakeSchema(), _intake_form(form))
        if loaded is not None:
            try:
                intake = intakes.record_intake(patient_id, loaded, caller=request_caller())
            except ServiceError as refused:
                db.session.rollback()
                if refused.code != "red_flag":
                    raise
                # The positive screen is recorded; the intake's page says what to do now and goes no further.
                return redirect(url_for("web.desk_intake", intake_id=refused.extra["intake_id"]))
            flash(gettext("Intake recorded: the red-flag screen is clear."), "success")
            return redirect(url_for("web.desk_intake", intake_id=intake.id))
        errors = form_errors(errors)
    return render_template("web/desk/intake_new.html", patient=patient, form=form, errors=errors,
                           **_intake_choices()), 422 if errors else 200


def _intake_in_reach(intake_id: int):
    """The intake and its patient. A red-flag screen is also open to any active clinician, who may judge it:
    that opens the screen, not the patient's record (the page then links nowhere else in it)."""
    intake = intakes.get_intake(intake_id)
    user = current_user()
    if not can_reach_patient(user, intake.patient_id) and intakes.may_judge_red_flag(user, intake):
        record("read", "intake", intake.id, intake.patient_id, detail=f"red-flag screen, page {request.path}",
               caller=request_caller())
        return intake, find_patient(intake.patient_id)
    return intake, patient_in_reach(intake.patient_id)


@bp.get("/desk/intakes/<int:intake_id>")
@page_for(*STAFF, "provider")
def desk_intake(intake_id: int):
    intake, patient = _intake_in_reach(intake_id)
    return _intake_page(intake, patient)


def _intake_page(intake, patient, *, values=None, errors=None, status=200):
    return render_template("web/desk/intake.html", intake=intake, patient=patient, values=values or {},
                           errors=errors or {}, may_override=current_user().role in OVERRIDERS,
                           may_open_record=can_reach_patient(current_user(), patient.id),
                           overridden_by=intakes.overrider_name(intake),
                           may_plan=current_user().role in STAFF, team_choices=team_choices(),
                           today=clinic.today(), **_intake_choices()), status


@bp.post("/desk/intakes/<int:intake_id>/override")
@page_for(*OVERRIDERS)
def desk_intake_override(intake_id: int):
    intake, patient = _intake_in_reach(intake_id)
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _intake_page(intake, patient, errors={"reason": "Write why care may go ahead."}, status=422)
    try:
        intakes.override_red_flag(intake_id, reason, caller=request_caller())
    except ServiceError as refused:
        db.session.rollback()
        return _intake_page(intake, patient, errors={"_form": refused.message}, status=refused.status)
    flash(gettext("The red flag is overridden; your reason is kept with the intake."), "success")
    return redirect(url_for("web.desk_intake", intake_id=intake_id))


def team_choices() -> dict[str, list[Provider]]:
    """The active providers of each discipline, for the care-team selects."""
    choices: dict[str, list[Provider]] = {}
    for provider in providers.active_providers():
        for code in provider.discipline_codes:
            choices.setdefault(code, []).append(provider)
    return choices


def _team_from_form(form: MultiDict, disciplines) -> list[dict]:
    return [{"discipline": code, "provider_id": form[f"team-{code}"],
             "required": form.get(f"team-{code}-required") == "on"}
            for code in disciplines if form.get(f"team-{code}")]


@bp.post("/desk/intakes/<int:intake_id>/plan")
@page_for(*STAFF)
def desk_plan_build(intake_id: int):
    intake, patient = _intake_in_reach(intake_id)
    data = {"intake_id": intake_id, "start_date": request.form.get("start_date", "").strip() or None}
    data = {key: value for key, value in data.items() if value is not None}
    plan, errors = submit(PlanCreateSchema(), data,
                          lambda loaded: plans.build_plan(loaded, caller=request_caller()))
    if plan is None:
        return _intake_page(intake, patient, values=request.form, errors=form_errors(errors), status=422)
    flash(gettext("Draft plan built from the clinic's protocol. Choose the care team, adjust it if needed, then "
                  "schedule it."), "success")
    return redirect(url_for("web.desk_plan", plan_id=plan.id))


def plan_in_reach(plan_id: int):
    plan = plans.get_plan(plan_id)
    patient_in_reach(plan.patient_id)
    return plan


def plan_disciplines(plan) -> list[str]:
    used = {line.discipline_code for phase in plan.phases for line in phase.lines}
    if plan.assessment_discipline:
        used.add(plan.assessment_discipline)
    order = [d.code for d in clinic.disciplines(include_inactive=True)]
    return sorted(used, key=lambda code: order.index(code) if code in order else len(order))


LINE_PARTS = ("per_week", "every_weeks", "minutes", "min_gap_days")
# How a session line is held (careplan.plans.models.SessionLine.mode), in the order the editor offers it.
LINE_MODES = ("in_person", "virtual", "either")


def plan_phases(plan) -> list[dict]:
    """A plan's phases in the shape the API (and the phase editor) speaks."""
    return [{"name": phase.name, "purpose": phase.purpose, "weeks": phase.weeks, "starts_on": phase.starts_on,
             "ends_on": phase.ends_on,
             "sessions": [{"discipline": line.discipline_code, **{part: getattr(line, part) for part in LINE_PARTS},
                           "mode": line.mode}
                          for line in phase.lines]}
            for phase in plan.phases]


def phase_values(phases: list[dict]) -> MultiDict:
    """The phase editor's inputs, filled from phases."""
    values = MultiDict()
    for p, phase in enumerate(phases):
        values[f"phases-{p}-weeks"] = str(phase["weeks"])
        values[f"phases-{p}-purpose"] = phase["purpose"]
        for s, line in enumerate(phase["sessions"]):
            for part in LINE_PARTS:
                values[f"phases-{p}-sessions-{s}-{part}"] = str(line.get(part, ""))
            values[f"phases-{p}-sessions-{s}-mode"] = line.get("mode") or "in_person"
    return values


def phases_from_form(form: MultiDict, phases: list[dict], *, purpose_editable: bool = False) -> list[dict]:
    """The edited phases: weeks and line figures from the form; a line whose "remove" box is ticked is left out."""
    edited = []
    for p, phase in enumerate(phases):
        sessions = []
        for s, line in enumerate(phase["sessions"]):
            prefix = f"phases-{p}-sessions-{s}-"
            if form.get(prefix + "remove") == "on":
                continue
            # How the line is held (in person, by video, either): the form's choice; a form without it (an
            # older page still open) keeps the line's own. An unknown one is the schema's to name.
            mode = form.get(prefix + "mode", "").strip() or line.get("mode")
            sessions.append({"discipline": line["discipline"],
                             **{part: form.get(prefix + part, "").strip() for part in LINE_PARTS},
                             **({"mode": mode} if mode else {})})
        purpose = form.get(f"phases-{p}-purpose", "").strip() if purpose_editable else phase["purpose"]
        edited.append({"name": phase["name"], "purpose": purpose,
                       "weeks": form.get(f"phases-{p}-weeks", "").strip(), "sessions": sessions})
    return edited


def _plan_values(plan) -> MultiDict:
    values = phase_values(plan_phases(plan))
    values["start_date"] = plan.start_date.isoformat()
    for member in plan.care_team:
        values[f"team-{member.discipline_code}"] = str(member.provider_id)
        if member.required:
            values[f"team-{member.discipline_code}-required"] = "on"
    return values


def _revision_from_form(plan, form: MultiDict) -> dict:
    changes = {"reason": form.get("reason", "").strip(), "phases": phases_from_form(form, plan_phases(plan)),
               "care_team": _team_from_form(form, plan_disciplines(plan))}
    if form.get("start_date"):
        changes["start_date"] = form["start_date"].strip()
    return changes


def _team_errors(errors: dict[str, str], team: list[dict]) -> dict[str, str]:
    """care_team-1-provider_id -> team-massage: the n-th member sent is the n-th discipline chosen."""
    renamed = {}
    for name, message in errors.items():
        match = re.match(r"^care_team-(\d+)", name)
        if match and int(match[1]) < len(team):
            name = f"team-{team[int(match[1])]['discipline']}"
        renamed[name] = message
    return renamed


@bp.route("/desk/plans/<int:plan_id>", methods=["GET", "POST"])
@page_for(*STAFF)
def desk_plan(plan_id: int):
    plan = plan_in_reach(plan_id)
    values, errors, version, changed = _plan_values(plan), {}, plan.version, False
    if request.method == "POST":
        values, version = request.form, form_version(request.form)
        changes = _revision_from_form(plan, request.form)
        saved, errors = submit(PlanRevisionSchema(), changes, lambda loaded: plans.revise_plan(
            plan_id, loaded, caller=request_caller(), expected_version=version))
        if saved is not None:
            flash(gettext("Plan saved as version %(version)s.", version=saved.version), "success")
            return redirect(url_for("web.desk_plan", plan_id=plan_id))
        changed = errors.pop(CHANGED, None) is not None
        errors = _team_errors(form_errors(errors), changes["care_team"])
        db.session.refresh(plan)
        if changed:
            # The plan as it is now, after someone else's change: the version the visitor edits next.
            values, version = _plan_values(plan), plan.version
    return render_template("web/desk/plan.html", plan=plan, patient=plan.patient, values=values, errors=errors,
                           version=version, changed=changed,
                           phases=plan_phases(plan),
                           disciplines=plan_disciplines(plan), team_choices=team_choices(),
                           team=providers.providers_by_id(m.provider_id for m in plan.care_team),
                           versions=list(reversed(plans.versions(plan_id))),
                           authors=accounts.users_by_id(v.created_by_id for v in plan.versions)), \
        409 if changed else 422 if errors else 200

