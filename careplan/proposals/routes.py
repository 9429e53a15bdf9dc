from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.auth.access import STAFF, login_required
from careplan.auth.edge import request_caller
from careplan.errors import ErrorSchema
from careplan.idempotency import HEADER_DOC, idempotent
from careplan.jobs import service as jobs
from careplan.jobs.schemas import JobSchema
from careplan.pagination import page_of
from careplan.proposals import service
from careplan.proposals.backfill import backfill_candidates
from careplan.proposals.schemas import (BackfillCandidateSchema, ProposalRequestSchema, ProposalSchema,
                                        ReplanRequestSchema)
from careplan.scheduling.schemas import AppointmentSchema

blp = Blueprint("proposals", __name__, url_prefix="/api/v1",
                description="Booking whole care plans: proposals held for review, booked all or nothing, "
                            "re-plans, backfill")


@blp.route("/plans/<int:plan_id>/proposals")
class PlanProposals(MethodView):
    @login_required(*STAFF)
    @blp.response(200, ProposalSchema(many=True))
    @blp.paginate()
    def get(self, plan_id, pagination_parameters):
        """The plan's proposals, newest first"""
        return page_of(service.list_proposals(plan_id, caller=request_caller()), pagination_parameters)

    @login_required(*STAFF)
    @located("jobs.JobById", job_id="id")
    @blp.arguments(ProposalRequestSchema, example={
        "start_date": "2027-01-11", "time_limit": 5, "preferred_providers": {"massage": 6},
        "availability": [{"day": "tue", "start": "08:00", "end": "12:00"},
                         {"day": "fri", "start": "13:00", "end": "18:00"}]})
    @blp.response(202, JobSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the plan is not a draft")
    def post(self, data, plan_id):
        """Schedule a draft plan with the optimizer, as a job (202, `Location` of the job to poll); once done,
        its proposal's slots are held for the clinic's hold_minutes. Asking again keeps what still fits of the
        previous proposal."""
        return jobs.submit_proposal(plan_id, data, caller=request_caller())


@blp.route("/plans/<int:plan_id>/replans")
class PlanReplans(MethodView):
    @login_required(*STAFF)
    @located("jobs.JobById", job_id="id")
    @blp.arguments(ReplanRequestSchema)
    @blp.response(202, JobSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the plan is not booked or active, or nothing to re-plan")
    def post(self, data, plan_id):
        """Re-plan a booked or active plan after a phase change or an absence, moving as few appointments as
        possible, as a job (202, `Location` of the job to poll); nothing moves until the proposal is booked"""
        return jobs.submit_replan(plan_id, data, caller=request_caller())


@blp.route("/proposals/<int:proposal_id>")
class ProposalById(MethodView):
    @login_required(*STAFF)
    @blp.response(200, ProposalSchema)
    def get(self, proposal_id):
        """One proposal: its sessions, their times and clinicians, and how long its holds last."""
        return service.read_proposal(proposal_id, caller=request_caller())


@blp.route("/proposals/<int:proposal_id>/book")
class ProposalBook(MethodView):
    @login_required(*STAFF)
    @idempotent
    @blp.doc(parameters=[HEADER_DOC])
    @blp.response(200, ProposalSchema)
    @blp.alt_response(409, schema=ErrorSchema,
                      description="something changed since the proposal; `error.conflicting_appointment_ids` "
                                  "names the appointments in the way; nothing was written")
    def post(self, proposal_id):
        """Book every appointment of the proposal in one transaction (a re-plan: move, cancel, create), or none"""
        return service.book_proposal(proposal_id, caller=request_caller())


@blp.route("/proposals/<int:proposal_id>/release")
class ProposalRelease(MethodView):
    @login_required(*STAFF)
    @blp.response(200, ProposalSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the proposal is not live")
    def post(self, proposal_id):
        """Let a proposal go: its slots are free for others at once"""
        return service.release_proposal(proposal_id, caller=request_caller())


@blp.route("/providers/<int:provider_id>/time-off/<int:time_off_id>/affected-appointments")
class AbsenceAffected(MethodView):
    @login_required(*STAFF)
    @blp.response(200, AppointmentSchema(many=True))
    def get(self, provider_id, time_off_id):
        """The provider's future appointments inside this time off"""
        return service.affected_by_absence(provider_id, time_off_id, caller=request_caller())


@blp.route("/providers/<int:provider_id>/time-off/<int:time_off_id>/replans")
class AbsenceReplans(MethodView):
    @login_required(*STAFF)
    @located("jobs.JobById", job_id="id")
    @blp.arguments(ReplanRequestSchema)
    @blp.response(202, JobSchema)
    def post(self, data, provider_id, time_off_id):
        """A re-plan proposal for every plan with appointments inside this time off, as one job (202,
        `Location` of the job to poll; its result lists the proposals, the appointments outside any plan and
        the plans not re-planned, with why)"""
        return jobs.submit_absence_replan(provider_id, time_off_id, data, caller=request_caller())


@blp.route("/appointments/<int:appointment_id>/backfill")
class Backfill(MethodView):
    @login_required(*STAFF)
    @blp.response(200, BackfillCandidateSchema(many=True))
    @blp.alt_response(409, schema=ErrorSchema, description="the appointment is not cancelled, or its time has passed")
    def get(self, appointment_id):
        """Plans whose unscheduled sessions the cancelled appointment's slot could serve, best first"""
        return backfill_candidates(appointment_id, caller=request_caller())
