"""The proposal as a picture: a plan's weeks as a calendar, the optimizer's figures and what it could not
place; booking, re-proposing, moving and cancelling; the re-plan after an absence; backfilling a freed slot."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext

from careplan.auth.access import STAFF
from careplan.auth.edge import request_caller
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.errors import Invalid, ServiceError
from careplan.extensions import db
from careplan.jobs import service as jobs
from careplan.page_query import query_int
from careplan.portal import offers
from careplan.proposals import service as proposals
from careplan.proposals.backfill import backfill_candidates
from careplan.proposals.schemas import ProposalRequestSchema, ReplanRequestSchema
from careplan.providers import service as providers
from careplan.scheduling import service as scheduling
from careplan.scheduling.models import Appointment
from careplan.scheduling.schemas import AppointmentChangeSchema
from careplan.web import bp
from careplan.web.access import page_for, patient_in_reach
from careplan.web.forms import load, local_input, local_moment, submit
from careplan.web.rendering import clock
from careplan.web.planning import (
    form_errors,
    plan_disciplines,
    plan_in_reach,
    team_choices,
)
from careplan.plans import service as plan_service

# The optimizer's search for the desk: a few seconds by default, never more than the service allows.
TIME_LIMITS = (3, 5, 10, 20)
DEFAULT_TIME_LIMIT = 5


def search_said(solution: dict, seconds: float) -> str:
    """How far the optimizer's search got, in the clinic's words rather than the solver's status."""
    status, method = solution.get("status", ""), solution.get("method", "")
    if status == "INFEASIBLE":
        return gettext("The optimizer took %(seconds)s s: no schedule fits the clinic's rules with the appointments "
                       "already booked.", seconds=f"{seconds:.1f}")
    if method == "first-available":
        return gettext("The optimizer took %(seconds)s s: these are the first free times, in order (its own "
                       "search gave nothing better it could check).", seconds=f"{seconds:.1f}")
    if status == "OPTIMAL":
        return gettext("The optimizer took %(seconds)s s: proven best, no other schedule does better.",
                       seconds=f"{seconds:.1f}")
    return gettext("The optimizer took %(seconds)s s: the best it found in the time it was given; a longer search "
                   "may do better.", seconds=f"{seconds:.1f}")


@dataclass
class CalendarWeek:
    number: int
    monday: date
    phase: str
    days: list[list[list]] = field(default_factory=list)  # per day: the visits, each its back-to-back sessions


def plan_calendar(plan, sessions) -> tuple[list[CalendarWeek], list[int]]:
    """Rows of plan weeks (dated), columns of weekdays; each day's sessions grouped into visits.

    Sunday shows only when something falls on one; so does any day after the plan's last week.
    """
    longest_wait = timedelta(minutes=clinic.settings().max_wait_minutes)
    by_day: dict[date, list] = {}
    for session in sorted(sessions, key=lambda s: s.starts_at):
        by_day.setdefault(clinic.to_local(session.starts_at).date(), []).append(session)
    weeks_of_phases = [(phase.first_week, phase.first_week + phase.weeks, phase.name) for phase in plan.phases]
    last_week = max([plan.total_weeks - 1] + [(day - plan.week_zero).days // 7 for day in by_day])
    weekdays = list(range(7 if any(day.weekday() == 6 for day in by_day) else 6))
    weeks = []
    for number in range(last_week + 1):
        monday = plan.week_zero + timedelta(weeks=number)
        phase = next((name for first, end, name in weeks_of_phases if first <= number < end), "")
        week = CalendarWeek(number, monday, phase)
        for weekday in weekdays:
            visits: list[list] = []
            for session in by_day.get(monday + timedelta(days=weekday), []):
                if visits and session.starts_at - visits[-1][-1].ends_at <= longest_wait:
                    visits[-1].append(session)
                else:
                    visits.append([session])
            week.days.append(visits)
        weeks.append(week)
    return weeks, weekdays


def _figures(proposal) -> list[tuple[str, str, str]]:
    """(label, value, explanation) for the figures beside the calendar."""
    metrics = proposal.metrics
    figures = [("Sessions placed", f"{metrics.get('scheduled', 0)} of {metrics.get('demand', 0)}",
                "what the plan asks for and what the schedule gives"),
               ("Visits", f"{metrics.get('visits', 0)}",
                f"trips to the clinic; at least {metrics.get('visits_lower_bound', 0)} are needed"),
               ("Continuity breaks", f"{metrics.get('continuity_breaks', 0)}",
                "times a discipline changes clinician"),
               ("Days to first session", f"{metrics.get('days_to_first', 0)}", "from the start date")]
    if "moved" in metrics:
        why = "of those already booked"
        if metrics["moved"] and any(h.action == "create" and h.kind == "assessment" for h in proposal.holds):
            # Found in use: a re-plan around one clinician's absence moved eleven sessions, and nothing said
            # that the plan's assessment, cancelled earlier, was booked again and must come before them all.
            why += "; the plan's assessment is booked again, and every other session comes after it"
        figures.append(("Appointments moved", f"{metrics['moved']}", why))
    return figures


@dataclass
class Treating:
    """One discipline of the schedule shown: each clinician with their number of sessions, most first."""

    discipline: str
    clinicians: list[tuple[int, int]]
    chosen: int | None
    required: bool

    @property
    def sessions(self) -> int:
        return sum(n for _, n in self.clinicians)


def who_treats(plan, sessions) -> list[Treating]:
    """Per discipline of the plan, who gives how many of the sessions shown, so a change of clinician is
    seen (not only counted among the figures); the care team's choice is named even when it gives none."""
    counts: dict[str, Counter] = {}
    for session in sessions:
        counts.setdefault(session.discipline_code, Counter())[session.provider_id] += 1
    team = {m.discipline_code: m for m in plan.care_team}
    rows = []
    for discipline in sorted(set(counts) | set(team)):
        member = team.get(discipline)
        by_clinician = counts.get(discipline, Counter())
        if member is not None:
            by_clinician[member.provider_id] += 0
        rows.append(Treating(discipline, sorted(by_clinician.items(), key=lambda item: (-item[1], item[0])),
                             member.provider_id if member else None, bool(member and member.required)))
    return rows


def _request_parameters(form, *, with_start: bool) -> dict:
    """The re-propose form: start date, a preferred clinician per discipline, the optimizer's time."""
    data = {"preferred_providers": {key[len("prefer-"):]: value for key, value in form.items()
                                    if key.startswith("prefer-") and value},
            "time_limit": form.get("time_limit") or str(DEFAULT_TIME_LIMIT),
            "deterministic": form.get("deterministic") == "on"}
    if with_start and form.get("start_date"):
        data["start_date"] = form["start_date"]
    return data


@bp.get("/desk/plans/<int:plan_id>/schedule")
@page_for(*STAFF, query=("proposal",))
def desk_schedule(plan_id: int):
    plan = plan_in_reach(plan_id)
    return _schedule_page(plan, query_int("proposal"))


def _schedule_page(plan, proposal_id=None, *, errors=None, values=None, status=200):
    now = utcnow()
    proposal = proposals.shown_for_plan(plan.id, proposal_id, caller=request_caller())
    booked = proposals.plan_appointments(plan.id)
    live = proposal is not None and proposal.state(now) == "live"
    showing = proposal.holds if live or (proposal is not None and plan.status == "draft") else booked
    weeks, weekdays = plan_calendar(plan, showing)
    moving = {h.appointment_id: h for h in proposal.holds if h.action == "move"} if live else {}
    team = {m.discipline_code: m.provider_id for m in plan.care_team}
    treating = who_treats(plan, showing)
    return render_template(
        "web/desk/schedule.html", plan=plan, patient=plan.patient, proposal=proposal, live=live, booked=booked,
        showing_proposal=showing is not booked, weeks=weeks, weekdays=weekdays, now=now,
        figures=_figures(proposal) if proposal is not None else [],
        search=search_said(proposal.solution or {}, proposal.solve_seconds) if proposal is not None else "",
        moving=moving, cancelling={c["appointment_id"]: c["reason"] for c in (proposal.cancellations or [])}
        if live else {},
        minutes_left=max(0, int((proposal.expires_at - now).total_seconds() // 60)) if live else 0,
        disciplines=plan_disciplines(plan), team_choices=team_choices(), team=team,
        time_limits=TIME_LIMITS, default_time_limit=DEFAULT_TIME_LIMIT, errors=errors or {},
        values=values if values is not None else _asked(proposal), today=clinic.today(),
        treating=treating, team_required={m.discipline_code for m in plan.care_team if m.required},
        names=providers.providers_by_id([a.provider_id for a in showing] + list(team.values()))), status


def _asked(proposal) -> dict[str, str]:
    """The form as the shown proposal was asked for (its clinicians, start and time), so "Propose again" starts
    from what the desk chose, not from the care team (found in use: the choice was forgotten each time)."""
    if proposal is None:
        return {}
    asked = proposal.parameters or {}
    values = {f"prefer-{discipline}": str(provider_id)
              for discipline, provider_id in (asked.get("preferred_providers") or {}).items()}
    if asked.get("time_limit") in TIME_LIMITS:
        values["time_limit"] = f"{asked['time_limit']:g}"
    # A start now past is not offered again (the form's own default, tomorrow at the earliest, stands).
    if asked.get("start_date") and date.fromisoformat(asked["start_date"]) > clinic.today():
        values["start_date"] = asked["start_date"]
    return values


def _preference_inputs(errors: dict[str, str]) -> dict[str, str]:
    """The schema names a preferred clinician preferred_providers.<discipline>(.key|.value); the form's input is
    prefer-<discipline>."""
    return {re.sub(r"^preferred_providers-([\w-]+?)(?:-(?:key|value))?$", r"prefer-\1", name): message
            for name, message in errors.items()}


def _optimize(plan, save, *, with_start: bool):
    """Ask for the optimizer's schedule as a job and follow it on its page; a refusal (checked before any
    job is queued) is shown on the schedule page, nothing held."""
    schema = ProposalRequestSchema() if with_start else ReplanRequestSchema()
    job, errors = submit(schema, _request_parameters(request.form, with_start=with_start), save)
    if job is None:
        return _schedule_page(plan, errors=_preference_inputs(form_errors(errors)), values=request.form, status=422)
    return redirect(url_for("web.desk_job", job_id=job.id), 303)


@bp.post("/desk/plans/<int:plan_id>/proposals")
@page_for(*STAFF)
def desk_propose(plan_id: int):
    plan = plan_in_reach(plan_id)
    return _optimize(plan, lambda loaded: jobs.submit_proposal(plan_id, loaded, caller=request_caller()),
                     with_start=True)


@bp.post("/desk/plans/<int:plan_id>/replans")
@page_for(*STAFF)
def desk_replan(plan_id: int):
    plan = plan_in_reach(plan_id)
    return _optimize(plan, lambda loaded: jobs.submit_replan(plan_id, loaded, caller=request_caller()),
                     with_start=False)


@bp.post("/desk/proposals/<int:proposal_id>/book")
@page_for(*STAFF)
def desk_book(proposal_id: int):
    proposal = proposals.get_proposal(proposal_id)
    plan = plan_in_reach(proposal.plan_id)
    try:
        booked = proposals.book_proposal(proposal_id, caller=request_caller())
    except ServiceError as refused:
        db.session.rollback()
        return _schedule_page(plan, proposal_id, errors={"_form": refused.message}, status=refused.status)
    flash(ngettext("Booked: %(num)d appointment for %(name)s. The patient gets a confirmation e-mail.",
                   "Booked: %(num)d appointments for %(name)s. The patient gets a confirmation e-mail.",
                   len(booked.booked_appointment_ids), name=plan.patient.name), "success")
    return redirect(url_for("web.desk_schedule", plan_id=plan.id))


@bp.post("/desk/proposals/<int:proposal_id>/release")
@page_for(*STAFF)
def desk_release(proposal_id: int):
    proposal = proposals.get_proposal(proposal_id)
    plan = plan_in_reach(proposal.plan_id)
    try:
        proposals.release_proposal(proposal_id, caller=request_caller())
    except ServiceError as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash(gettext("Proposal let go: its slots are free for others."), "success")
    return redirect(url_for("web.desk_schedule", plan_id=plan.id))


# --- one appointment: move, cancel, and the backfill of its freed slot ------------------------------------


def _appointment(appointment_id: int) -> Appointment:
    appointment = scheduling.get_appointment(appointment_id)
    patient_in_reach(appointment.patient_id)
    return appointment


def _back(appointment: Appointment) -> str:
    if appointment.plan_id is not None:
        return url_for("web.desk_schedule", plan_id=appointment.plan_id)
    return url_for("web.desk_patient", patient_id=appointment.patient_id)


@bp.route("/desk/appointments/<int:appointment_id>/move", methods=["GET", "POST"])
@page_for(*STAFF)
def desk_move(appointment_id: int):
    appointment = _appointment(appointment_id)
    values = {"start": local_input(appointment.starts_at), "provider_id": str(appointment.provider_id)}
    errors = {}
    if request.method == "POST":
        values = {"start": request.form.get("start", ""), "provider_id": request.form.get("provider_id", "")}
        change = {"start": local_moment(values["start"]), "provider_id": values["provider_id"]}
        loaded, errors = load(AppointmentChangeSchema(), change)
        if loaded is not None:
            try:
                scheduling.update_appointment(appointment_id, loaded, caller=request_caller())
            except ServiceError as refused:
                db.session.rollback()
                errors = form_errors(refused.fields) or {"_form": refused.message}
            else:
                flash(gettext("Appointment moved; the patient gets a notice of the new time."), "success")
                return redirect(_back(appointment))
    colleagues = [p for p in providers.active_providers() if appointment.discipline_code in p.discipline_codes]
    return render_template("web/desk/move.html", appointment=appointment, values=values, errors=errors,
                           colleagues=colleagues, back=_back(appointment)), 422 if errors else 200


@bp.post("/desk/appointments/<int:appointment_id>/cancel")
@page_for(*STAFF)
def desk_cancel(appointment_id: int):
    appointment = _appointment(appointment_id)
    reason = request.form.get("reason", "").strip() or "Cancelled at the front desk."
    try:
        scheduling.update_appointment(appointment_id, {"status": "cancelled", "reason": reason},
                                      caller=request_caller())
    except ServiceError as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(_back(appointment))
    flash(gettext("Appointment cancelled. Here is who could use the freed time."), "success")
    return redirect(url_for("web.desk_backfill", appointment_id=appointment_id))


@bp.get("/desk/appointments/<int:appointment_id>/backfill")
@page_for(*STAFF)
def desk_backfill(appointment_id: int):
    appointment = _appointment(appointment_id)
    try:
        candidates = backfill_candidates(appointment_id, caller=request_caller())
        problem = None
    except ServiceError as refused:
        db.session.rollback()
        candidates, problem = [], refused.message
    return render_template("web/desk/backfill.html", appointment=appointment, candidates=candidates,
                           problem=problem, back=_back(appointment), offers=offers.offers_of(appointment.id),
                           now=utcnow())


@bp.post("/desk/appointments/<int:appointment_id>/backfill")
@page_for(*STAFF)
def desk_backfill_book(appointment_id: int):
    appointment = _appointment(appointment_id)
    wanted = request.form.get("plan_id", type=int)
    offered = backfill_candidates(appointment_id, caller=request_caller())
    candidate = next((c for c in offered if c["plan_id"] == wanted), None)
    if candidate is None:
        raise Invalid("That plan can no longer use this slot.", fields={"plan_id": "not a candidate any more"})
    try:
        booked = scheduling.book_appointment(candidate["booking"], caller=request_caller())
    except ServiceError as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for("web.desk_backfill", appointment_id=appointment_id))
    flash(gettext("Booked %(name)s into the freed slot at %(time)s.", name=candidate["patient_name"],
                  time=clock(booked.starts_at)), "success")
    return redirect(_back(appointment))


# --- an absence and the re-plan it needs ------------------------------------------------------------------


def _absence_result(job_id: int, provider_id: int, time_off_id: int) -> dict | None:
    """The re-plans a done absence job made, as the page lists them."""
    job = jobs.read_job(job_id, caller=request_caller())
    if job.kind != "absence_replan" or job.state != "done" or \
            (job.params.get("provider_id"), job.params.get("time_off_id")) != (provider_id, time_off_id):
        return None
    return {"proposals": [proposals.get_proposal(i) for i in job.result.get("proposal_ids", [])],
            "not_replanned": job.result.get("not_replanned", [])}


@bp.route("/admin/providers/<int:provider_id>/time-off/<int:time_off_id>/replan", methods=["GET", "POST"])
@page_for(*STAFF, query=("job",))
def desk_absence_replan(provider_id: int, time_off_id: int):
    provider = providers.get_provider(provider_id)
    absence = next((t for t in provider.time_off if t.id == time_off_id), None)
    result, errors = None, {}
    if request.method == "POST":
        loaded, errors = load(ReplanRequestSchema(), _request_parameters(request.form, with_start=False))
        if loaded is not None:
            job = jobs.submit_absence_replan(provider_id, time_off_id, loaded, caller=request_caller())
            return redirect(url_for("web.desk_job", job_id=job.id), 303)
    affected = proposals.affected_by_absence(provider_id, time_off_id, caller=request_caller())
    job_id = query_int("job")
    if job_id is not None and request.method == "GET":
        result = _absence_result(job_id, provider_id, time_off_id)
    plans = {p.id: p for p in plan_service.plans_by_id(
        [a.plan_id for a in affected if a.plan_id] + [p.plan_id for p in (result or {}).get("proposals", [])])}
    return render_template("web/desk/absence.html", provider=provider, absence=absence, affected=affected,
                           result=result, errors=errors, plans=plans, time_limits=TIME_LIMITS,
                           default_time_limit=DEFAULT_TIME_LIMIT,
                           names=providers.providers_by_id(
                               [h.provider_id for p in (result or {}).get("proposals", []) for h in p.holds]
                               + [h.previous_provider_id for p in (result or {}).get("proposals", [])
                                  for h in p.holds if h.previous_provider_id])), 422 if errors else 200
