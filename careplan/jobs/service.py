"""Solve jobs: what the API and the pages create instead of solving in the request.

    submit_proposal(plan_id, parameters, caller=...)            a draft plan's proposal
    submit_replan(plan_id, parameters, caller=...)              a booked or active plan's re-plan
    submit_absence_replan(provider_id, time_off_id, parameters, caller=...)   every plan an absence touches
    submit_batch(plan_ids, parameters, caller=...)              many draft plans at once (the optimizer's batch)
    read_job(job_id, caller=...), cancel_job(job_id, caller=...)

Submitting checks everything a solve would refuse before it searches (the plan's status, a red flag, the
start date, the preferred clinicians, a required clinician gone, the absence), in the request, so bad input
is still a 4xx naming the field, without building the problem document (the worker builds it, once); the job
itself is one row, committed at once. careplan.jobs.runner runs it on any worker.
"""
from __future__ import annotations

from datetime import datetime

from careplan.audit.service import record
from careplan.caller import Caller
from careplan.db import utcnow
from careplan.errors import Conflict, Invalid
from careplan.extensions import db
from careplan.jobs.models import SolveJob
from careplan.plans.service import get_plan
from careplan.proposals import service as proposals
from careplan.proposals.schemas import ProposalRequestSchema, ReplanRequestSchema
from careplan.records import get_or_404

# A batch intake: at most this many plans in one job (the optimizer's batch handles 100; a desk's week
# of new patients is far fewer).
MAX_BATCH_PLANS = 60


def _create(kind: str, params: dict, seconds: float, *, caller: Caller, patient_id: int | None,
            now: datetime | None) -> SolveJob:
    job = SolveJob(kind=kind, state="queued", params=params, time_limit=seconds, progress={},
                   patient_id=patient_id, created_by_id=caller.user_id, created_at=now or utcnow())
    db.session.add(job)
    db.session.flush()
    record("create", "solve_job", job.id, patient_id=patient_id, detail=f"{kind} job: {params_summary(params)}",
           caller=caller)
    db.session.commit()
    return job


def params_summary(params: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in params.items() if k != "parameters")


def _submit_for_plan(kind: str, check, schema, plan_id: int, parameters: dict, *, caller: Caller,
                     now: datetime | None) -> SolveJob:
    """What the solve would refuse, refused now (the read leaves nothing behind); then the job. The check
    builds no problem document: the worker does, once."""
    now = now or utcnow()
    patient_id = get_plan(plan_id).patient_id
    check(plan_id, parameters, now=now)
    db.session.rollback()
    return _create(kind, {"plan_id": plan_id, "parameters": schema.dump(parameters)},
                   proposals.time_limit(parameters.get("time_limit")), caller=caller, patient_id=patient_id, now=now)


def submit_proposal(plan_id: int, parameters: dict, *, caller: Caller, now: datetime | None = None) -> SolveJob:
    return _submit_for_plan("proposal", proposals.check_proposal, ProposalRequestSchema(), plan_id, parameters,
                            caller=caller, now=now)


def submit_replan(plan_id: int, parameters: dict, *, caller: Caller, now: datetime | None = None) -> SolveJob:
    return _submit_for_plan("replan", proposals.check_replan, ReplanRequestSchema(), plan_id, parameters,
                            caller=caller, now=now)


def submit_absence_replan(provider_id: int, time_off_id: int, parameters: dict, *, caller: Caller,
                          now: datetime | None = None) -> SolveJob:
    """One job for every plan with appointments inside the absence (each gets its share of the time)."""
    now = now or utcnow()
    proposals.affected_by_absence(provider_id, time_off_id, caller=caller, now=now)
    return _create("absence_replan", {"provider_id": provider_id, "time_off_id": time_off_id,
                                      "parameters": ReplanRequestSchema().dump(parameters)},
                   proposals.time_limit(parameters.get("time_limit")), caller=caller, patient_id=None, now=now)


def submit_batch(plan_ids: list[int], parameters: dict, *, caller: Caller, now: datetime | None = None) -> SolveJob:
    """Many draft plans solved together (a week's intake): one proposal per plan, none taking another's
    slot. parameters: time_limit, deterministic (the start dates are each plan's own)."""
    now = now or utcnow()
    plan_ids = list(dict.fromkeys(plan_ids))
    if not plan_ids or len(plan_ids) > MAX_BATCH_PLANS:
        raise Invalid(f"Give 1 to {MAX_BATCH_PLANS} plans.", fields={"plan_ids": f"1 to {MAX_BATCH_PLANS} plans"})
    proposals.check_batch(plan_ids, now=now)
    db.session.rollback()
    limit = proposals.time_limit(parameters.get("time_limit"), batch=True)
    solver = {"time_limit": parameters.get("time_limit"), "deterministic": bool(parameters.get("deterministic"))}
    return _create("batch_intake", {"plan_ids": plan_ids, "parameters": solver},
                   limit, caller=caller, patient_id=None, now=now)


def get_job(job_id: int) -> SolveJob:
    return get_or_404(SolveJob, job_id, f"No job {job_id}.")


def read_job(job_id: int, *, caller: Caller) -> SolveJob:
    """A job's state, progress and result (its figures only; the proposal it made is read, and audited,
    on its own)."""
    return get_job(job_id)


def cancel_job(job_id: int, *, caller: Caller, now: datetime | None = None) -> SolveJob:
    """A queued job is cancelled at once; a running one is asked to stop (its worker stops the search within
    about a second and records it cancelled, holding nothing); a finished one is a 409."""
    now = now or utcnow()
    job = get_job(job_id)
    if job.finished:
        raise Conflict(f"Job {job.id} is {job.state}; only a queued or running job is cancelled.",
                       fields={"state": job.state})
    job.cancel_requested_at = job.cancel_requested_at or now
    if job.state == "queued":
        job.state = "cancelled"
        job.finished_at = now
    record("update", "solve_job", job.id, patient_id=job.patient_id, detail="cancel requested", caller=caller)
    db.session.commit()
    return job
