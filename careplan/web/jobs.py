"""A solve job's page: the optimizer's real progress (elapsed time, the best schedule so far, its bound),
polled by careplan.js from the job's JSON (without JavaScript the page refreshes itself every second), a
Cancel button, and, once done, straight on to the proposal."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext

from careplan.auth.access import STAFF
from careplan.auth.edge import request_caller
from careplan.errors import ServiceError
from careplan.extensions import db
from careplan.jobs import service as jobs
from careplan.proposals import service as proposals
from careplan.web import bp
from careplan.web.access import page_for
from careplan.web.planning import plan_in_reach
from careplan.web.rendering import clock

KIND_TITLES = {"proposal": lazy_gettext("Proposing a schedule"), "replan": lazy_gettext("Re-planning"),
               "absence_replan": lazy_gettext("Re-planning an absence"),
               "batch_intake": lazy_gettext("Proposing the intake's plans")}


def _job_in_reach(job_id: int):
    job = jobs.read_job(job_id, caller=request_caller())
    if job.params.get("plan_id"):
        plan_in_reach(job.params["plan_id"])
    return job


def _where_done(job) -> str | None:
    """Where a done job leads: its plan's schedule showing the proposal, or the absence's re-plans."""
    made = (job.result or {}).get("proposal_ids", [])
    if job.kind in ("proposal", "replan") and made:
        proposal = proposals.get_proposal(made[0])
        placed, asked = proposal.metrics.get("scheduled", 0), proposal.metrics.get("demand", 0)
        flash(gettext("Proposal ready: %(placed)d of %(asked)d sessions placed, held for you until %(time)s.",
                      placed=placed, asked=asked, time=clock(proposal.expires_at)), "success")
        return url_for("web.desk_schedule", plan_id=proposal.plan_id, proposal=proposal.id)
    if job.kind == "absence_replan":
        return url_for("web.desk_absence_replan", provider_id=job.params["provider_id"],
                       time_off_id=job.params["time_off_id"], job=job.id)
    return None


@bp.get("/desk/jobs/<int:job_id>")
@page_for(*STAFF)
def desk_job(job_id: int):
    job = _job_in_reach(job_id)
    if job.state == "done":
        where = _where_done(job)
        if where is not None:
            return redirect(where, 303)
    made = [proposals.get_proposal(i) for i in (job.result or {}).get("proposal_ids", [])]
    patients = {p.plan_id: plan_in_reach(p.plan_id).patient.name for p in made}
    plan = plan_in_reach(job.params["plan_id"]) if job.params.get("plan_id") else None
    return render_template("web/desk/job.html", job=job, title=KIND_TITLES[job.kind], plan=plan, made=made,
                           patients=patients)


@bp.post("/desk/jobs/<int:job_id>/cancel")
@page_for(*STAFF)
def desk_job_cancel(job_id: int):
    _job_in_reach(job_id)
    try:
        jobs.cancel_job(job_id, caller=request_caller())
    except ServiceError as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash(gettext("Cancel asked: the optimizer stops within a second and holds nothing."), "success")
    return redirect(url_for("web.desk_job", job_id=job_id), 303)
