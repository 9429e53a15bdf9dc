from flask import url_for
from marshmallow import Schema, fields, validate

from careplan.jobs.models import JOB_KINDS, JOB_STATES
from careplan.jobs.service import MAX_BATCH_PLANS
from careplan.proposals.service import MAX_BATCH_TIME_LIMIT
from careplan.scheduling.schemas import RecordId
from careplan.schemas import ClinicDateTime, WholeNumber


class ProgressSchema(Schema):
    """The optimizer's latest report while the job runs (and its last one once it ended)."""

    elapsed = fields.Float(metadata={"description": "seconds since the job started running"})
    stage = fields.String(metadata={"description": "what the optimizer is doing"})
    scheduled = WholeNumber(metadata={"description": "sessions placed by the best schedule so far"})
    demand = WholeNumber(metadata={"description": "sessions the plans ask for"})
    visits = WholeNumber(metadata={"description": "trips to the clinic in the best schedule so far"})
    breaks = WholeNumber(metadata={"description": "continuity breaks (a discipline changing clinician)"})
    bound = WholeNumber(metadata={"description": "proven least number of visits, when known"})
    seconds = fields.Dict(keys=fields.String(), values=fields.Float(), metadata={
        "description": "once ended: seconds spent reading the clinic, solving and writing the result"})


class JobResultSchema(Schema):
    proposal_ids = fields.List(WholeNumber())
    without_plan = fields.List(WholeNumber(), metadata={
        "description": "an absence: appointments booked outside any plan, to move by hand"})
    not_replanned = fields.List(fields.Dict(), metadata={"description": "an absence: [{plan_id, why}]"})


class JobErrorSchema(Schema):
    code = fields.String()
    message = fields.String()
    fields_ = fields.Dict(data_key="fields")


class JobSchema(Schema):
    id = WholeNumber()
    kind = fields.String(metadata={"enum": list(JOB_KINDS)})
    state = fields.String(metadata={"enum": list(JOB_STATES)})
    plan_id = WholeNumber(attribute="params.plan_id", allow_none=True)
    plan_ids = fields.List(WholeNumber(), attribute="params.plan_ids", allow_none=True)
    provider_id = WholeNumber(attribute="params.provider_id", allow_none=True)
    time_off_id = WholeNumber(attribute="params.time_off_id", allow_none=True)
    time_limit = fields.Float(metadata={"description": "seconds the solve may take once running"})
    progress = fields.Nested(ProgressSchema)
    result = fields.Nested(JobResultSchema, allow_none=True)
    error = fields.Nested(JobErrorSchema, allow_none=True)
    cancel_requested = fields.Function(lambda job: job.cancel_requested_at is not None)
    attempts = WholeNumber()
    created_at = ClinicDateTime()
    started_at = ClinicDateTime(allow_none=True)
    finished_at = ClinicDateTime(allow_none=True)
    links = fields.Method("_links")

    def _links(self, job) -> dict:
        links = {"self": url_for("jobs.JobById", job_id=job.id)}
        if not job.finished:
            links["cancel"] = url_for("jobs.JobCancel", job_id=job.id)
        links["proposals"] = [url_for("proposals.ProposalById", proposal_id=p)
                              for p in (job.result or {}).get("proposal_ids", [])]
        return links


class BatchIntakeSchema(Schema):
    """A week's intake: draft plans of different patients proposed together, none taking another's slot."""

    plan_ids = fields.List(WholeNumber(validate=RecordId), required=True,
                           validate=validate.Length(min=1, max=MAX_BATCH_PLANS))
    time_limit = fields.Float(load_default=None, validate=validate.Range(min=0.1, max=MAX_BATCH_TIME_LIMIT),
                              metadata={"description": f"seconds the optimizer may search (at most "
                                                       f"{MAX_BATCH_TIME_LIMIT:g}; default 30)"})
    deterministic = fields.Boolean(load_default=False)
