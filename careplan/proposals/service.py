"""Proposals: the optimizer's schedule for a whole plan, held while the front desk reviews it, booked in
one transaction or not at all; re-plans that move as few booked appointments as possible.

    propose(plan_id, parameters, caller=...)        a draft plan's schedule, its slots held
    propose_replan(plan_id, parameters, caller=...) a booked or active plan's changes (moves, cancellations,
                                                     new sessions) after a phase change or an absence
    prepare_* / solve_prepared / finish(_batch)      the same in three steps, for a job (careplan.jobs):
                                                     read, solve with no database, write re-checked
    book_proposal(proposal_id, caller=...)          all of it, or 409 and nothing written
    expire_proposals()                               the periodic job: live proposals past expiry -> expired
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from careplan.audit.service import record, record_listed
from careplan.caller import Caller
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.errors import Conflict, Invalid, NotFound
from careplan.extensions import db
from careplan.intake.service import check_no_red_flag
from careplan.optimizer import ProblemError, solve
from careplan.patients.models import Patient
from careplan.plans.models import CarePlan
from careplan.plans.problem import (build_problem, check_plans, check_required_providers, hint, optional_record_id,
                                    patient_key, provider_key, record_id, wall_interval)
from careplan.plans.service import current_plan_week, get_plan, mark_booked, stale_with_reasons
from careplan.proposals.holds import holds_in_force
from careplan.webhooks import service as webhooks
from careplan.proposals.models import HeldSlot, Proposal
from careplan.providers.models import Provider
from careplan.reminders.service import queue_booking_confirmation, schedule_reminders_for
from careplan.scheduling.attention import lock_providers
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment, overlapping
from careplan.records import get_or_404
from careplan.scheduling.service import (MAX_DAYS_AHEAD, Booking, add_appointments, cancel,
                                         check_booking, check_bookings, find_conflicts, move_to, overlap_guard,
                                         write_appointments)

# The front desk waits for the answer: the search is bounded, and a clinic may bound it further
# (PROPOSAL_MAX_SECONDS; the tests keep it small).
MAX_TIME_LIMIT = 20.0
DEFAULT_TIME_LIMIT = 10.0
# A batch intake (many plans at once) may search longer: the optimizer's batch needs 30-60 s for a week's
# intake (BATCH_MAX_SECONDS bounds it further).
MAX_BATCH_TIME_LIMIT = 120.0
DEFAULT_BATCH_TIME_LIMIT = 30.0


def time_limit(requested: float | None, *, batch: bool = False) -> float:
    if batch:
        cap = min(MAX_BATCH_TIME_LIMIT, float(current_app.config["BATCH_MAX_SECONDS"]))
        return min(requested or DEFAULT_BATCH_TIME_LIMIT, cap)
    cap = min(MAX_TIME_LIMIT, float(current_app.config["PROPOSAL_MAX_SECONDS"]))
    return min(requested or DEFAULT_TIME_LIMIT, cap)


# --- the problem, from the database ----------------------------------------------------------------

def _holds_of_others(plan_ids, now: datetime) -> list[tuple[int, int, datetime, datetime]]:
    """Other plans' holds in force are busy time for this proposal (these plans' own earlier proposals are
    superseded by it, so theirs are not)."""
    query = holds_in_force(now)
    if len(plan_ids) == 1:
        query = holds_in_force(now, exclude_plan_id=plan_ids[0])
    else:
        query = query.where(Proposal.plan_id.not_in(list(plan_ids)))
    return [(h.provider_id, h.patient_id, h.starts_at, h.ends_at, h.room_id) for h in db.session.scalars(query)]


def _current_index(path: str) -> tuple[int, int] | None:
    """"patients[1].appointments[3].week" -> (1, 3): which patient's current appointment the optimizer
    refused."""
    marker = ".appointments["
    if marker not in path or not path.startswith("patients["):
        return None
    return int(path[len("patients["):].split("]", 1)[0]), int(path.split(marker, 1)[1].split("]", 1)[0])


def _solve(document: dict, parameters: dict, on_refused=None, *, seconds: float | None = None,
           observer=None, solver=None) -> dict:
    """Run the optimizer (no database needed). A current appointment it refuses as input (it answers no
    demand any more) is dropped from the hints and handed to `on_refused`; anything else wrong is a 422
    naming the field. `seconds`: the whole search, refusals included (default: the parameters' time limit);
    `observer`: careplan.optimizer.Observer, told of each better schedule, able to stop the search;
    `solver`: what solves (default careplan.optimizer.solve, here; a job's SolverProcess, in its child)."""
    from careplan.operations.metrics import observe_solve

    began = time.perf_counter()
    seconds = seconds if seconds is not None else time_limit(parameters.get("time_limit"))
    hints = sum(len(p.get("appointments", [])) for p in document["patients"])
    for _ in range(hints + 1):
        started = time.perf_counter()
        try:
            solution = (solver or solve)(document, time_limit=max(0.1, seconds - (started - began)),
                                         deterministic=bool(parameters.get("deterministic")), observer=observer)
        except ProblemError as error:
            observe_solve(time.perf_counter() - started, "refused")
            where = _current_index(error.path)
            if where is None:
                raise Invalid(f"The schedule cannot be computed: {error}", fields={"problem": str(error)}) from None
            patient, index = where
            dropped = document["patients"][patient]["appointments"].pop(index)
            if on_refused is not None and patient == 0:
                on_refused(index, dropped)
        else:
            observe_solve(time.perf_counter() - started, solution.get("status") or "solved")
            return solution
    raise Invalid("The schedule cannot be computed.", fields={"problem": "current appointments refused"})


def _preferred(parameters: dict) -> dict[str, int]:
    problems = {}
    for discipline, provider_id in (parameters.get("preferred_providers") or {}).items():
        provider = db.session.get(Provider, provider_id)
        if provider is None or not provider.active:
            problems[f"preferred_providers.{discipline}"] = f"no active provider {provider_id}"
        elif discipline not in provider.discipline_codes:
            problems[f"preferred_providers.{discipline}"] = f"{provider.name} does not practise {discipline}"
    if problems:
        raise Invalid("A preferred provider cannot take that discipline.", fields=problems)
    return dict(parameters.get("preferred_providers") or {})


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _unscheduled(solution: dict) -> list[dict]:
    return [{k: entry.get(k) for k in ("discipline", "kind", "phase", "week", "reason")}
            for entry in solution["unscheduled"]]


# --- proposing a draft plan's schedule --------------------------------------------------------------

def _today(now: datetime) -> date:
    return clinic.to_local(now).date()


def _previous(plan: CarePlan) -> Proposal | None:
    """The plan's latest proposal not booked: its appointments are the hints that keep what still fits."""
    return db.session.scalar(select(Proposal).where(
        Proposal.plan_id == plan.id, Proposal.kind == "plan", Proposal.status.in_(("live", "expired")))
        .order_by(Proposal.id.desc()).limit(1))


def _supersede(plan: CarePlan) -> None:
    for proposal in db.session.scalars(select(Proposal).where(Proposal.plan_id == plan.id,
                                                              Proposal.status == "live")):
        proposal.status = "superseded"


def _still_free(holds: list[HeldSlot], plan: CarePlan, now: datetime, moving: set[int]) -> None:
    """The optimizer ran on a snapshot; refuse to hold what someone booked or held meanwhile. Two queries
    (appointments, other plans' holds in force) over the holds' span, whatever their number."""
    if not holds:
        return
    start, end = min(h.starts_at for h in holds), max(h.ends_at for h in holds)
    providers, patients = {h.provider_id for h in holds}, {h.patient_id for h in holds}
    booked = list(db.session.scalars(select(Appointment).where(
        Appointment.status != "cancelled", overlapping(Appointment, start, end),
        Appointment.provider_id.in_(providers) | Appointment.patient_id.in_(patients))))
    held = list(db.session.scalars(holds_in_force(now, exclude_plan_id=plan.id).where(
        HeldSlot.starts_at < end, start < HeldSlot.ends_at,
        HeldSlot.provider_id.in_(providers) | HeldSlot.patient_id.in_(patients))))

    def clashes(other, hold) -> bool:
        return (other.provider_id == hold.provider_id or other.patient_id == hold.patient_id) and \
            other.starts_at < hold.ends_at and hold.starts_at < other.ends_at

    taken = {other.id for hold in holds for other in booked if other.id not in moving and clashes(other, hold)}
    if taken or any(clashes(other, hold) for hold in holds for other in held):
        raise Conflict("The clinic's calendar changed while the schedule was computed; ask for it again.",
                       fields={"plan_id": "calendar changed meanwhile"},
                       extra={"conflicting_appointment_ids": sorted(taken)})


def _store(plan: CarePlan, kind: str, parameters: dict, document: dict, solution: dict, holds: list[HeldSlot],
           *, cancellations: list[dict], unscheduled: list[dict], caller: Caller, now: datetime,
           relabels: list[dict] | None = None, commit: bool = True) -> Proposal:
    _supersede(plan)
    proposal = Proposal(plan_id=plan.id, plan_version=plan.version, kind=kind, status="live",
                        created_by_id=caller.user_id, created_at=now,
                        expires_at=now + timedelta(minutes=clinic.settings().hold_minutes),
                        parameters=parameters, problem=document, solution=solution,
                        metrics=solution["metrics"], solve_seconds=solution.get("solve_seconds", 0.0),
                        unscheduled=unscheduled, cancellations=cancellations, holds=holds,
                        relabels=relabels or [])
    db.session.add(proposal)
    db.session.flush()
    record("create", "proposal", proposal.id, patient_id=plan.patient_id,
           detail=f"{kind} of plan {plan.id}: {len(holds)} slots held, {len(cancellations)} to cancel, "
                  f"{len(relabels or [])} kept under another week, {len(unscheduled)} unscheduled", caller=caller)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return proposal


def _stored_parameters(parameters: dict, start: date | None) -> dict:
    """The parameters as JSON (dates and clock times as text), as the proposal keeps them."""
    stored = {k: v for k, v in parameters.items() if k not in ("availability", "start_date")}
    if parameters.get("availability"):
        stored["availability"] = [{"day": w["day"], "start": w["start"].strftime("%H:%M"),
                                   "end": w["end"].strftime("%H:%M")} for w in parameters["availability"]]
    if start is not None:
        stored["start_date"] = start.isoformat()
    return stored


@dataclass
class Solving:
    """A proposal between its three steps: `prepare_*` reads the clinic in one short transaction, `solve_*`
    runs the optimizer with no database at all, `finish` writes the holds in one short transaction that
    re-checks the calendar. A job (careplan.jobs) runs the steps with no transaction open while it solves."""

    kind: str                         # "plan", "replan" or "batch"
    plan_id: int
    plan_version: int
    parameters: dict                  # as the request schema loaded them
    stored: dict                      # as the proposal keeps them (JSON)
    document: dict
    now: datetime                     # the problem's "not before now"
    start: date | None = None
    # A re-plan: the plan's current appointments given as hints {id: sequence}, and each one's busy time
    # should the optimizer refuse it as input (it then stays where it is).
    currents: dict[int, int] = field(default_factory=dict)
    kept_busy: list[tuple[str, dict]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    solution: dict | None = None
    # A batch: every plan's version and start date.
    plans: dict[int, int] = field(default_factory=dict)
    starts: dict[int, date] = field(default_factory=dict)


def check_proposal(plan_id: int, parameters: dict, *, now: datetime) -> tuple[CarePlan, date, dict[str, int]]:
    """Everything a draft plan's proposal refuses, without building its problem (a job's submission asks this
    in the request; the worker prepares): not a draft, a red flag, the start date, a preferred clinician who
    cannot take the discipline, a required one who left. The plan, the start and the preferences."""
    plan = get_plan(plan_id)
    if plan.status != "draft":
        raise Conflict(f"Plan {plan.id} is {plan.status}: its schedule is booked; ask for a re-plan instead.",
                       fields={"status": plan.status})
    check_no_red_flag(plan.patient_id)
    today = _today(now)
    start = parameters.get("start_date") or max(plan.start_date, today + timedelta(days=1))
    if start < today:
        raise Invalid("Care cannot start in the past.", fields={"start_date": f"on or after {today.isoformat()}"})
    if start > today + timedelta(days=MAX_DAYS_AHEAD):
        raise Invalid("The clinic does not book that far ahead.",
                      fields={"start_date": f"at most {MAX_DAYS_AHEAD} days ahead"})
    preferred = _preferred(parameters)
    check_required_providers(plan, preferred)
    return plan, start, preferred


def prepare_proposal(plan_id: int, parameters: dict, *, now: datetime) -> Solving:
    """Read what a draft plan's proposal solves (refusals first: `check_proposal`)."""
    plan, start, preferred = check_proposal(plan_id, parameters, now=now)
    previous = _previous(plan)
    hints = None
    if previous is not None and previous.plan_version == plan.version and \
            previous.parameters.get("start_date") == start.isoformat():
        hints = {plan.id: [hint(h, provider_id=h.provider_id, start=h.starts_at) for h in previous.holds]}
    document = build_problem([plan], start_dates={plan.id: start}, preferred_providers={plan.id: preferred},
                             patient_availability=_availability(plan, parameters),
                             holds=_holds_of_others([plan.id], now), hints=hints, not_before=now)
    return Solving("plan", plan.id, plan.version, parameters, _stored_parameters(parameters, start), document, now,
                   start=start)


def _availability(plan: CarePlan, parameters: dict) -> dict | None:
    windows = parameters.get("availability")
    return {plan.patient_id: windows} if windows else None


def hint_with(solving: Solving, solution: dict) -> None:
    """An earlier solution's appointments as the hints of a new solve of the same plans (a proposal or a
    batch solved again after the calendar changed under it: it keeps what still fits)."""
    by_patient: dict[str, list[dict]] = {}
    # Only clinicians the new document offers: the calendar changed, so its shortlist may have too, and a hint
    # naming someone else would be refused by the optimizer and cost a solve of its own.
    offered = {provider["id"] for provider in solving.document["providers"]}
    for a in solution["appointments"]:
        if a["provider"] not in offered:
            continue
        entry = {"provider": a["provider"], "discipline": a["discipline"], "kind": a["kind"],
                 "start": a["start"][:16], "fixed": False}
        if a["kind"] != "assessment":
            entry.update(phase=a["phase"], week=a["week"])
        by_patient.setdefault(a["patient"], []).append(entry)
    for patient in solving.document["patients"]:
        if patient["id"] in by_patient:
            patient["appointments"] = by_patient[patient["id"]]


def solve_prepared(solving: Solving, *, seconds: float | None = None, observer=None, solver=None) -> Solving:
    """The optimizer's run: no database, no transaction. A re-plan's current appointment the optimizer
    refuses as input stays where it is, as busy time."""
    document = solving.document
    entry = document["patients"][0]
    order = list(solving.currents)

    def keep_in_place(index: int, _entry: dict) -> None:
        solving.refused.append(order.pop(index))
        provider, interval = solving.kept_busy.pop(index)
        entry["booked"].append(interval)
        for row in document["providers"]:
            if row["id"] == provider:
                row.setdefault("booked", []).append(interval)

    solving.solution = _solve(document, solving.parameters, keep_in_place if solving.kind == "replan" else None,
                              seconds=seconds, observer=observer, solver=solver)
    return solving


def finish(solving: Solving, *, caller: Caller, now: datetime, commit: bool = True) -> Proposal:
    """Write the solved proposal in one transaction, after checking that nothing it was built on changed:
    the plan (status, version), a re-plan's appointments, and the calendar where it holds slots (409
    `conflict`, nothing written: the caller may solve again). `commit=False` leaves the commit to the
    caller (a job marks itself done in the same transaction)."""
    plan = get_plan(solving.plan_id)
    if plan.version != solving.plan_version:
        raise Conflict(f"Plan {plan.id} changed while its schedule was computed; ask for it again.",
                       fields={"plan_id": "changed meanwhile"}, extra={"conflicting_appointment_ids": []})
    if solving.kind == "plan":
        if plan.status != "draft":
            raise Conflict(f"Plan {plan.id} is {plan.status}: its schedule is booked; ask for a re-plan instead.",
                           fields={"status": plan.status})
        holds = [_hold(plan, a) for a in solving.solution["appointments"]]
        _still_free(holds, plan, now, set())
        return _store(plan, "plan", solving.stored, solving.document, solving.solution, holds,
                      cancellations=[], unscheduled=_unscheduled(solving.solution), caller=caller, now=now,
                      commit=commit)
    context = _replan_context(plan, solving.now)
    if {a.id: a.sequence for a in context["currents"]} != solving.currents:
        raise Conflict("Appointments of this plan changed while its re-plan was computed; ask for it again.",
                       fields={"plan_id": "changed meanwhile"}, extra={"conflicting_appointment_ids": []})
    refused = [a for a in context["currents"] if a.id in solving.refused]
    currents = [a for a in context["currents"] if a.id not in solving.refused]
    held_before = context["held_before"] + Counter(_key(a) for a in refused)
    holds, cancellations, relabels = _changes(plan, solving.solution, currents, context["needs"], held_before,
                                              context["carried"])
    _still_free(holds, plan, now, {a.id for a in currents})
    week = current_plan_week(plan, _today(solving.now))
    unscheduled = _relevant_unscheduled(solving.solution, held_before, week)
    return _store(plan, "replan", solving.stored, solving.document, solving.solution, holds,
                  cancellations=cancellations, unscheduled=unscheduled, caller=caller, now=now, relabels=relabels,
                  commit=commit)


def check_batch(plan_ids: list[int], *, now: datetime) -> tuple[list[CarePlan], dict[int, date]]:
    """Everything a batch intake refuses, without building its problem: a plan not a draft, a red flag, a
    start too far ahead, a patient twice, a required clinician gone. The plans and their start dates."""
    plans = [get_plan(plan_id) for plan_id in plan_ids]
    for plan in plans:
        if plan.status != "draft":
            raise Conflict(f"Plan {plan.id} is {plan.status}; a batch intake proposes draft plans only.",
                           fields={"plan_ids": f"plan {plan.id} is {plan.status}"})
        check_no_red_flag(plan.patient_id)
    today = _today(now)
    starts = {plan.id: max(plan.start_date, today + timedelta(days=1)) for plan in plans}
    for plan in plans:
        if starts[plan.id] > today + timedelta(days=MAX_DAYS_AHEAD):
            raise Invalid("The clinic does not book that far ahead.",
                          fields={"plan_ids": f"plan {plan.id} starts more than {MAX_DAYS_AHEAD} days ahead"})
    check_plans(plans)
    return plans, starts


def prepare_batch(plan_ids: list[int], parameters: dict, *, now: datetime) -> Solving:
    """Read what a batch intake solves: draft plans of different patients, each from its own start date
    (or tomorrow if that is past), solved together so that none takes another's slot (refusals first:
    `check_batch`)."""
    plans, starts = check_batch(plan_ids, now=now)
    document = build_problem(plans, start_dates=starts, holds=_holds_of_others(plan_ids, now), not_before=now)
    stored = {k: v for k, v in parameters.items() if k in ("time_limit", "deterministic")}
    return Solving("batch", plans[0].id, plans[0].version, parameters, stored, document, now,
                   plans={plan.id: plan.version for plan in plans}, starts=starts)


def finish_batch(solving: Solving, *, caller: Caller, now: datetime, commit: bool = True) -> list[Proposal]:
    """One proposal per plan of a solved batch, all written in one transaction after the same checks as
    `finish` (any plan changed, or the calendar where any holds: 409, nothing written)."""
    made = []
    for plan_id, version in solving.plans.items():
        plan = get_plan(plan_id)
        if plan.version != version or plan.status != "draft":
            raise Conflict(f"Plan {plan.id} changed while the batch was computed; ask for it again.",
                           fields={"plan_ids": f"plan {plan.id} changed meanwhile"},
                           extra={"conflicting_appointment_ids": []})
        who = patient_key(plan.patient_id)
        holds = [_hold(plan, a) for a in solving.solution["appointments"] if a["patient"] == who]
        _still_free(holds, plan, now, set())
        unscheduled = _unscheduled({"unscheduled": [u for u in solving.solution["unscheduled"]
                                                    if u.get("patient") == who]})
        stored = {**solving.stored, "start_date": solving.starts[plan.id].isoformat(), "batch": True}
        own = {**solving.solution, "metrics": _plan_metrics(holds, unscheduled, solving.starts[plan.id])}
        made.append(_store(plan, "plan", stored, solving.document, own, holds, cancellations=[],
                           unscheduled=unscheduled, caller=caller, now=now, commit=False))
    if commit:
        db.session.commit()
    return made


def _plan_metrics(holds: list[HeldSlot], unscheduled: list[dict], start: date) -> dict:
    """One plan's figures out of a batch's schedule (the solution's metrics are the whole batch's)."""
    days = sorted({clinic.to_local(h.starts_at).date() for h in holds})
    clinicians: dict[str, set[int]] = {}
    for h in holds:
        clinicians.setdefault(h.discipline_code, set()).add(h.provider_id)
    return {"scheduled": len(holds), "demand": len(holds) + len(unscheduled), "visits": len(days),
            "continuity_breaks": sum(len(seen) - 1 for seen in clinicians.values()),
            "days_to_first": (days[0] - start).days if days else 0}


def propose(plan_id: int, parameters: dict, *, caller: Caller, now: datetime | None = None) -> Proposal:
    """Schedule a draft plan with the optimizer and hold its slots for the clinic's `hold_minutes`, in the
    caller's own time (the API and the pages run it as a job: careplan.jobs).

    parameters: start_date (care starts; default the plan's, or tomorrow if that is past),
    preferred_providers {discipline: provider id}, availability (the patient's weekly windows for this
    proposal only), time_limit (seconds, at most 20), deterministic (same problem, same schedule).
    Asking again keeps what still fits: the previous proposal's appointments are the optimizer's hints.
    """
    now = now or utcnow()
    return finish(solve_prepared(prepare_proposal(plan_id, parameters, now=now)), caller=caller, now=now)


def _hold(plan: CarePlan, appointment: dict, **fields) -> HeldSlot:
    return HeldSlot(patient_id=plan.patient_id, provider_id=record_id(appointment["provider"]),
                    discipline_code=appointment["discipline"], kind=appointment["kind"],
                    phase_name=appointment["phase"], plan_week=appointment["week"],
                    starts_at=_instant(appointment["start"]), ends_at=_instant(appointment["end"]),
                    virtual=appointment.get("mode") == "virtual",
                    location_id=optional_record_id(appointment.get("location")),
                    room_id=optional_record_id(appointment.get("room")), **fields)


# --- re-planning a booked plan -----------------------------------------------------------------------

def _why_invalid(appointment: Appointment) -> str | None:
    """Why a booked appointment can no longer take place where it is (an absence, changed hours), if so."""
    booking = Booking(patient_id=appointment.patient_id, provider_id=appointment.provider_id,
                      discipline=appointment.discipline_code, start=appointment.starts_at,
                      minutes=appointment.minutes)
    try:
        check_booking(booking, appointment.starts_at)
    except Invalid as refused:
        return "; ".join(refused.fields.values())
    return None


def _future(plan: CarePlan, now: datetime) -> list[Appointment]:
    return list(db.session.scalars(select(Appointment).where(
        Appointment.plan_id == plan.id, Appointment.status.in_(ACTIVE_STATUSES), Appointment.starts_at > now)
        .order_by(Appointment.starts_at, Appointment.id)))


def _key(item, carried: dict[int, tuple[str, int]] | None = None) -> tuple:
    """Which demand an appointment (or a solution's appointment) answers; `carried` gives the new plan week
    of appointments a re-plan carries over to another week or phase."""
    if isinstance(item, dict):
        return item["discipline"], item["kind"], item.get("week")
    if carried and isinstance(item, Appointment) and item.id in carried:
        return item.discipline_code, item.kind, carried[item.id][1]
    return item.discipline_code, item.kind, item.plan_week if item.kind != "assessment" else None


def _demand(plan: CarePlan) -> Counter:
    need = Counter()
    if plan.assessment_discipline:
        need[(plan.assessment_discipline, "assessment", None)] = 1
    for phase in plan.phases:
        for week in range(phase.first_week, phase.first_week + phase.weeks):
            for line in phase.lines:
                if line.due_in(week):
                    need[(line.discipline_code, "treatment", week)] += line.per_week
    return need


def _held_elsewhere(plan: CarePlan) -> Counter:
    return Counter(_key(a) for a in db.session.scalars(select(Appointment).where(
        Appointment.plan_id == plan.id, Appointment.status != "cancelled")))


def replan_needs(plan: CarePlan, now: datetime | None = None) -> dict:
    """What a re-plan would work on: stale appointments (to cancel), appointments that can no longer take
    place (to move), and sessions the plan asks for from this week on that nothing answers yet."""
    now = now or utcnow()
    stale = stale_with_reasons(plan, now)
    stale_ids = {a.id for a, _ in stale}
    invalid = {a.id: why for a in _future(plan, now) if a.id not in stale_ids and (why := _why_invalid(a))}
    week = current_plan_week(plan, _today(now))
    have = _held_elsewhere(plan)
    missing = sum(max(0, count - have[key]) for key, count in _demand(plan).items()
                  if key[2] is None or key[2] >= week)
    return {"stale": stale, "invalid": invalid, "missing": missing}


def _carry_over(plan: CarePlan, stale: list[tuple[Appointment, str]], now: datetime) -> dict[int, tuple[str, int]]:
    """Stale appointments that still answer a session of the changed plan: {appointment id: (phase, week)}.

    A phase that grows or shrinks shifts the plan weeks of the phases after it, so an appointment booked as
    "subacute, week 2" may now fall in the acute phase, and the plan still asks for its session somewhere.
    Each is given to a session of its discipline that nothing answers, from this week on: first in its own
    calendar week (it stays where it is, confirmation and reminders untouched), else the nearest week that
    asks for one (the optimizer moves it there). Only what no session of the plan wants any more is cancelled.
    """
    week_now = current_plan_week(plan, _today(now))
    stale_ids = {a.id for a, _ in stale}
    answered = Counter(_key(a) for a in db.session.scalars(select(Appointment).where(
        Appointment.plan_id == plan.id, Appointment.status != "cancelled")) if a.id not in stale_ids)
    wanted = Counter({key: count - answered[key] for key, count in _demand(plan).items()
                      if key[1] == "treatment" and key[2] >= week_now and count > answered[key]})
    phase_of = {week: phase.name for phase in plan.phases
                for week in range(phase.first_week, phase.first_week + phase.weeks)}
    treatments = [a for a, _ in stale if a.kind == "treatment"]
    own_week = {a.id: (clinic.to_local(a.starts_at).date() - plan.week_zero).days // 7 for a in treatments}
    carried: dict[int, tuple[str, int]] = {}
    for nearest in (False, True):
        for appointment in treatments:
            if appointment.id in carried:
                continue
            weeks = [key[2] for key, n in wanted.items() if n > 0 and key[0] == appointment.discipline_code
                     and (nearest or key[2] == own_week[appointment.id])]
            if weeks:
                week = min(weeks, key=lambda w: (abs(w - own_week[appointment.id]), w))
                wanted[(appointment.discipline_code, "treatment", week)] -= 1
                carried[appointment.id] = (phase_of[week], week)
    return carried


def _replan_context(plan: CarePlan, now: datetime) -> dict:
    """What a re-plan works on, read the same way when it is prepared and when it is written."""
    needs = replan_needs(plan, now)
    if not needs["stale"] and not needs["invalid"] and not needs["missing"]:
        raise Conflict(f"Nothing to re-plan: plan {plan.id}'s appointments all still fit and it asks for "
                       "nothing more.", fields={"plan_id": "nothing to re-plan"})
    carried = _carry_over(plan, needs["stale"], now)
    stale_ids = {a.id for a, _ in needs["stale"]} - set(carried)
    currents = [a for a in _future(plan, now) if a.id not in stale_ids]
    # What past appointments answer already (neither the movable ones nor the stale ones count), by the
    # labels they carry now.
    held_before = _held_elsewhere(plan) - Counter(_key(a) for a in currents) - \
        Counter(_key(a) for a, _ in needs["stale"] if a.id not in carried)
    needs["stale"] = [(a, why) for a, why in needs["stale"] if a.id not in carried]
    return {"needs": needs, "carried": carried, "currents": currents, "held_before": held_before}


def check_replan(plan_id: int, parameters: dict, *, now: datetime) -> tuple[CarePlan, dict, dict[str, int]]:
    """Everything a re-plan refuses, without building its problem: not booked or active, a red flag, nothing
    to re-plan, a preferred clinician who cannot take the discipline, a required one who left. The plan,
    what the re-plan works on (`_replan_context`) and the preferences."""
    plan = get_plan(plan_id)
    if plan.status not in ("booked", "active"):
        raise Conflict(f"Plan {plan.id} is {plan.status}; only a booked or active plan is re-planned "
                       "(a draft is proposed).", fields={"status": plan.status})
    check_no_red_flag(plan.patient_id)
    context = _replan_context(plan, now)
    preferred = _preferred(parameters)
    check_required_providers(plan, preferred)
    return plan, context, preferred


def prepare_replan(plan_id: int, parameters: dict, *, now: datetime) -> Solving:
    """Read what a booked or active plan's re-plan solves (refusals first: `check_replan`)."""
    plan, context, preferred = check_replan(plan_id, parameters, now=now)
    currents, carried = context["currents"], context["carried"]
    document = build_problem(
        [plan], preferred_providers={plan.id: preferred},
        patient_availability=_availability(plan, parameters), holds=_holds_of_others([plan.id], now),
        own=currents, not_before=now,
        hints={plan.id: [hint(a, provider_id=a.provider_id, start=a.starts_at, label=carried.get(a.id))
                         for a in currents]})
    entry = document["patients"][0]
    if plan.assessment_discipline and context["held_before"][(plan.assessment_discipline, "assessment", None)]:
        # The assessment already took place: it answers its demand and ordering no longer binds the rest.
        entry["plan"].pop("assessment", None)
    return Solving("replan", plan.id, plan.version, parameters, _stored_parameters(parameters, None), document,
                   now, currents={a.id: a.sequence for a in currents},
                   kept_busy=[(provider_key(a.provider_id), wall_interval(a.starts_at, a.ends_at)) for a in currents])


def propose_replan(plan_id: int, parameters: dict, *, caller: Caller,
                   now: datetime | None = None) -> Proposal:
    """Re-plan a booked or active plan around what changed, moving as few appointments as possible.

    The plan's future appointments are the optimizer's hints (moving one costs right after unmet demand),
    so those that still can stay; stale ones (the plan no longer asks for them) are cancelled. Nothing moves
    until the proposal is booked. parameters: preferred_providers, availability, time_limit, deterministic.
    """
    now = now or utcnow()
    return finish(solve_prepared(prepare_replan(plan_id, parameters, now=now)), caller=caller, now=now)


def _changes(plan: CarePlan, solution: dict, currents: list[Appointment], needs: dict, held_before: Counter,
             carried: dict[int, tuple[str, int]]) -> tuple[list[HeldSlot], list[dict], list[dict]]:
    """The solution as changes: which current appointment moves where, which go, which are new, and which
    stay where they are under another plan week or phase (carried over)."""
    placed = {(a["provider"], _instant(a["start"]), a["discipline"], a["kind"]): a for a in solution["appointments"]}
    unmoved, moving, relabels = [], [], []
    for appointment in currents:
        key = (provider_key(appointment.provider_id), appointment.starts_at, appointment.discipline_code,
               appointment.kind)
        if key in placed and placed[key].get("rebooking") == "kept":
            placed.pop(key)
            unmoved.append(appointment)
            if appointment.id in carried:
                phase, week = carried[appointment.id]
                relabels.append({"appointment_id": appointment.id, "sequence": appointment.sequence,
                                 "phase": phase, "week": week})
        else:
            moving.append(appointment)
    fresh = sorted(placed.values(), key=lambda a: a["start"])
    holds, cancellations = [], []
    for appointment in moving:
        partner = next((a for a in fresh if _key(a) == _key(appointment, carried)
                        and a["provider"] == provider_key(appointment.provider_id)), None) or \
            next((a for a in fresh if _key(a) == _key(appointment, carried)), None)
        if partner is None:
            why = needs["invalid"].get(appointment.id, "no other time fits")
            cancellations.append({"appointment_id": appointment.id, "sequence": appointment.sequence,
                                  "reason": f"cannot be placed: {why}"})
            continue
        fresh.remove(partner)
        holds.append(_hold(plan, partner, action="move", appointment_id=appointment.id,
                           appointment_sequence=appointment.sequence,
                           previous_provider_id=appointment.provider_id,
                           previous_starts_at=appointment.starts_at))
    # New sessions only for demand nothing answers yet (past appointments answer theirs).
    answered = held_before + Counter(_key(a, carried) for a in unmoved) + Counter(_key(h) for h in holds)
    need = _demand(plan)
    for appointment in fresh:
        key = _key(appointment)
        if answered[key] < need[key]:
            answered[key] += 1
            holds.append(_hold(plan, appointment, action="create"))
    for appointment, why in needs["stale"]:
        cancellations.append({"appointment_id": appointment.id, "sequence": appointment.sequence,
                              "reason": f"no longer in the plan: {why}"})
    return holds, cancellations, relabels


def _relevant_unscheduled(solution: dict, held_before: Counter, week: int) -> list[dict]:
    """Sessions still missing from this week on; weeks gone by and demand answered in the past are history."""
    excused = Counter(held_before)
    kept = []
    for entry in _unscheduled(solution):
        key = (entry["discipline"], entry["kind"], entry["week"])
        if entry["week"] is not None and entry["week"] < week:
            continue
        if excused[key]:
            excused[key] -= 1
            continue
        kept.append(entry)
    return kept


# --- booking -----------------------------------------------------------------------------------------

def get_proposal(proposal_id: int) -> Proposal:
    return get_or_404(Proposal, proposal_id, f"No proposal {proposal_id}.")


def read_proposal(proposal_id: int, *, caller: Caller) -> Proposal:
    proposal = get_proposal(proposal_id)
    record("read", "proposal", proposal.id, patient_id=db.session.get(CarePlan, proposal.plan_id).patient_id,
           caller=caller)
    return proposal


def shown_for_plan(plan_id: int, proposal_id: int | None, *, caller: Caller) -> Proposal | None:
    """The proposal a plan's schedule shows: the one asked for (when it is this plan's), else the latest."""
    if proposal_id is not None:
        proposal = read_proposal(proposal_id, caller=caller)
        return proposal if proposal.plan_id == plan_id else None
    return db.session.scalars(list_proposals(plan_id, caller=caller).limit(1)).first()


def plan_appointments(plan_id: int) -> list[Appointment]:
    """The plan's appointments that take up their time (not cancelled), in time order."""
    return list(db.session.scalars(select(Appointment).where(
        Appointment.plan_id == plan_id, Appointment.status != "cancelled").order_by(Appointment.starts_at)))


def list_proposals(plan_id: int, *, caller: Caller):
    plan = get_plan(plan_id)
    record("read", "proposal", "", patient_id=plan.patient_id, detail=f"proposals of plan {plan.id}", caller=caller)
    return select(Proposal).where(Proposal.plan_id == plan.id).order_by(Proposal.id.desc())


# The plan's status a proposal of each kind books onto: a draft gets its schedule, a booked or active plan
# its re-plan.
BOOKS_ONTO = {"plan": ("draft",), "replan": ("booked", "active")}


def _bookable(proposal: Proposal, plan: CarePlan) -> None:
    """Booking re-checks everything that may have changed since the proposal was made: the red-flag
    screen, the proposal's own state (live, or timed out but not let go), that it has something to book,
    and the plan's status and version."""
    check_no_red_flag(plan.patient_id)
    nothing = {"conflicting_appointment_ids": []}
    state = "released" if proposal.released_at is not None else proposal.status
    if state not in ("live", "expired"):
        raise Conflict(f"Proposal {proposal.id} is {state}; it cannot be booked.", fields={"status": state},
                       extra=nothing)
    if not proposal.holds and not proposal.cancellations and not proposal.relabels:
        raise Conflict(f"Proposal {proposal.id} places no session; there is nothing to book. "
                       "Ask for a new proposal (other dates or clinicians).",
                       fields={"appointments": "none to book"}, extra=nothing)
    if plan.status not in BOOKS_ONTO[proposal.kind]:
        raise Conflict(f"Plan {plan.id} is {plan.status}; a {proposal.kind} proposal books onto a "
                       f"{' or '.join(BOOKS_ONTO[proposal.kind])} plan.", fields={"status": plan.status},
                       extra=nothing)
    if proposal.plan_version != plan.version:
        raise Conflict(f"Plan {plan.id} changed since proposal {proposal.id} (version {proposal.plan_version}, "
                       f"now {plan.version}); ask for a new proposal.", fields={"plan_id": "changed since"},
                       extra=nothing)


def _booking(hold: HeldSlot, plan: CarePlan, field: str) -> Booking:
    return Booking(patient_id=hold.patient_id, provider_id=hold.provider_id, discipline=hold.discipline_code,
                   start=hold.starts_at, minutes=hold.minutes, kind=hold.kind, plan_id=plan.id,
                   phase=hold.phase_name, week=hold.plan_week, field=field, virtual=hold.virtual,
                   location_id=hold.location_id, room_id=hold.room_id)


def book_proposal(proposal_id: int, *, caller: Caller, now: datetime | None = None) -> Proposal:
    """Book every held appointment in one transaction, or nothing: 409 with the appointments in the way when
    the calendar changed (a booking slipped in, an expired hold's slot was taken), the plan changed version,
    or a re-plan's appointments changed since. An expired proposal whose slots are all still free books."""
    now = now or utcnow()
    proposal = get_proposal(proposal_id)
    plan = get_plan(proposal.plan_id)
    _bookable(proposal, plan)
    if proposal.kind == "plan":
        rows = _book_plan(proposal, plan, caller, now)
    else:
        rows = _book_replan(proposal, plan, caller, now)
    proposal.status = "booked"
    proposal.booked_at = now
    proposal.booked_appointment_ids = [row.id for row in rows]
    record("update", "proposal", proposal.id, patient_id=plan.patient_id,
           detail=f"booked: {len(rows)} appointments written, {len(proposal.cancellations)} cancelled", caller=caller)
    webhooks.emit("appointment.booked", [webhooks.appointment_data(row) for row in rows], now=now)
    booked = {"proposal_id": proposal.id, "kind": proposal.kind, "plan_id": plan.id, "patient_id": plan.patient_id,
              "appointment_ids": [row.id for row in rows],
              "cancelled_appointment_ids": [c["appointment_id"] for c in proposal.cancellations]}
    webhooks.emit("proposal.booked", [booked], now=now)
    if proposal.kind == "plan":
        webhooks.emit("plan.booked", [{"plan_id": plan.id, "patient_id": plan.patient_id,
                                       "proposal_id": proposal.id, "appointment_ids": [row.id for row in rows]}],
                      now=now)
    with overlap_guard([_booking(h, plan, "") for h in proposal.holds], [None] * len(proposal.holds),
                       proposal_ids=(proposal.id,)):
        db.session.commit()
    return proposal


def _book_plan(proposal: Proposal, plan: CarePlan, caller: Caller, now: datetime) -> list[Appointment]:
    bookings = [_booking(h, plan, f"appointments[{i}].") for i, h in enumerate(proposal.holds)]
    with overlap_guard(bookings, [None] * len(bookings), proposal_ids=(proposal.id,)):
        rows = add_appointments(bookings, caller=caller, now=now, proposal_id=proposal.id)
        schedule_reminders_for(rows, now=now)
        if rows:
            queue_booking_confirmation(db.session.get(Patient, plan.patient_id), rows, now=now)
        start = proposal.parameters.get("start_date")
        if start and start != plan.start_date.isoformat():
            plan.start_date = date.fromisoformat(start)
        mark_booked(plan, caller=caller, reason=f"Booked from proposal {proposal.id}.")
    return rows


def _book_replan(proposal: Proposal, plan: CarePlan, caller: Caller, now: datetime) -> list[Appointment]:
    moves = [h for h in proposal.holds if h.action == "move"]
    creates = [h for h in proposal.holds if h.action == "create"]
    changed = []
    touched = {}
    relabels = proposal.relabels or []
    for appointment_id, sequence in [(h.appointment_id, h.appointment_sequence) for h in moves] + \
            [(c["appointment_id"], c["sequence"]) for c in proposal.cancellations] + \
            [(r["appointment_id"], r["sequence"]) for r in relabels]:
        appointment = db.session.get(Appointment, appointment_id)
        if appointment is None or appointment.status not in ACTIVE_STATUSES or appointment.sequence != sequence:
            changed.append(appointment_id)
        else:
            touched[appointment_id] = appointment
    if changed:
        raise Conflict("Appointments of this re-plan changed since it was proposed; ask for a new re-plan.",
                       fields={"appointments": f"changed: {', '.join(map(str, changed))}"},
                       extra={"conflicting_appointment_ids": sorted(changed)})
    bookings = [_booking(h, plan, f"moves[{i}].") for i, h in enumerate(moves)] + \
        [_booking(h, plan, f"appointments[{i}].") for i, h in enumerate(creates)]
    # As for any booking: a change of these providers' hours waits until this one is written.
    lock_providers(b.provider_id for b in bookings)
    check_bookings(bookings, now)
    conflict = find_conflicts(bookings, [None] * len(bookings), now=now, proposal_ids=(proposal.id,),
                              ignore_ids=frozenset(touched))
    if conflict:
        raise conflict
    with overlap_guard(bookings, [None] * len(bookings), proposal_ids=(proposal.id,)):
        for cancellation in proposal.cancellations:
            cancel(touched[cancellation["appointment_id"]],
                   f"Re-planned (proposal {proposal.id}): {cancellation['reason']}", now, caller=caller)
        # Out of the way first, then into place: no moment where two moving appointments overlap.
        for hold in moves:
            touched[hold.appointment_id].status = "cancelled"
        db.session.flush()
        moved = []
        for hold in moves:
            appointment = touched[hold.appointment_id]
            if hold.virtual != appointment.virtual:
                # The re-plan holds it the other way (by video, or in person again): its room is chosen anew.
                appointment.virtual = hold.virtual
                appointment.location_id = appointment.room_id = appointment.room_unit = None
            move_to(appointment, hold.provider_id, hold.starts_at, hold.ends_at, now)
            # A session carried over to another week or phase answers that one now.
            appointment.phase_name, appointment.plan_week = hold.phase_name, hold.plan_week
            moved.append(appointment)
        for relabel in relabels:
            # Same time, same clinician: only the plan week it answers changes; its confirmation, reminders
            # and e-mail links stay as they are.
            appointment = touched[relabel["appointment_id"]]
            appointment.phase_name, appointment.plan_week = relabel["phase"], relabel["week"]
        # Checked with the moves above, against everyone else's bookings and holds.
        created = write_appointments(bookings[len(moves):], caller=caller, now=now)
        schedule_reminders_for(created, now=now)
        if created:
            queue_booking_confirmation(db.session.get(Patient, plan.patient_id), created, now=now)
    return moved + created


def release_proposal(proposal_id: int, *, caller: Caller, now: datetime | None = None) -> Proposal:
    """The front desk lets a proposal go: its holds stop at once."""
    proposal = get_proposal(proposal_id)
    if proposal.status != "live":
        raise Conflict(f"Proposal {proposal.id} is {proposal.status}; only a live proposal is released.",
                       fields={"status": proposal.status})
    now = now or utcnow()
    proposal.status = "expired"
    proposal.released_at = now
    proposal.expires_at = min(proposal.expires_at, now)
    record("update", "proposal", proposal.id, patient_id=db.session.get(CarePlan, proposal.plan_id).patient_id,
           detail="released", caller=caller)
    db.session.commit()
    return proposal


def expire_proposals(now: datetime | None = None) -> int:
    """Record as expired the live proposals past their expiry (their holds stopped counting already)."""
    now = now or utcnow()
    rows = list(db.session.scalars(select(Proposal).where(Proposal.status == "live", Proposal.expires_at <= now)))
    for proposal in rows:
        proposal.status = "expired"
    db.session.commit()
    return len(rows)


# --- absences -----------------------------------------------------------------------------------------

def affected_by_absence(provider_id: int, time_off_id: int, *, caller: Caller,
                        now: datetime | None = None) -> list[Appointment]:
    """The provider's live, future appointments inside that time off (a read of their patients, audited)."""
    from careplan.providers.models import ProviderTimeOff

    now = now or utcnow()
    absence = db.session.get(ProviderTimeOff, time_off_id)
    if absence is None or absence.provider_id != provider_id:
        raise NotFound(f"No time off {time_off_id} for provider {provider_id}.")
    rows = list(db.session.scalars(select(Appointment).where(
        Appointment.provider_id == provider_id, Appointment.status.in_(ACTIVE_STATUSES), Appointment.starts_at > now,
        Appointment.starts_at < absence.ends_at, absence.starts_at < Appointment.ends_at)
        .order_by(Appointment.starts_at, Appointment.id)))
    record_listed("appointment", rows, caller=caller)
    return rows
