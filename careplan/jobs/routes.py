from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.auth.access import STAFF, login_required
from careplan.auth.edge import request_caller
from careplan.errors import ErrorSchema
from careplan.jobs import service
from careplan.jobs.schemas import BatchIntakeSchema, JobSchema

blp = Blueprint("jobs", __name__, url_prefix="/api/v1",
                description="Solve jobs: proposals, re-plans and batch intakes computed off the request, with "
                            "their progress")


@blp.route("/jobs/<int:job_id>")
class JobById(MethodView):
    @login_required(*STAFF, resource="solve_job")
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """A solve job: its state (queued, running, done, failed, cancelled), progress and, when done, links
        to its proposals"""
        return service.read_job(job_id, caller=request_caller())


@blp.route("/jobs/<int:job_id>/cancel")
class JobCancel(MethodView):
    @login_required(*STAFF, resource="solve_job")
    @blp.response(200, JobSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the job has ended already")
    def post(self, job_id):
        """Cancel a job: a queued one at once, a running one within about a second; it holds nothing"""
        return service.cancel_job(job_id, caller=request_caller())


@blp.route("/batch-intakes")
class BatchIntakes(MethodView):
    @login_required(*STAFF, resource="solve_job")
    @located("jobs.JobById", job_id="id")
    @blp.arguments(BatchIntakeSchema)
    @blp.response(202, JobSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="a plan is not a draft")
    def post(self, data):
        """Propose many draft plans at once (a week's intake) with the optimizer's batch: one proposal per plan,
        none taking another's slot. Answers 202 with the job to poll."""
        return service.submit_batch(data["plan_ids"], data, caller=request_caller())
