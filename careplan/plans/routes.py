from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.audit.service import record, record_listed
from careplan.auth.access import STAFF, login_required, patient_of
from careplan.auth.edge import request_caller
from careplan.errors import ErrorSchema
from careplan.intake.schemas import RedFlagErrorSchema
from careplan.pagination import page_of
from careplan.plans import service
from careplan.plans.models import CarePlan
from careplan.plans.problem import problem_for_plans
from careplan.versions import documents_if_match, etag, if_match, with_etag
from careplan.plans.schemas import (PhaseChangeOutSchema, PhaseChangeSchema, PlanCreateSchema, PlanOutSchema,
                                    PlanQuerySchema, PlanRevisionSchema, PlanVersionOutSchema, ProblemQuerySchema,
                                    StaleAppointmentSchema, StatusChangeSchema)

blp = Blueprint("plans", __name__, url_prefix="/api/v1/plans",
                description="Care plans: built from intake and protocol, revised with history, exported to the optimizer")

CLINICIANS = ("provider", "admin")
# A plan outside the caller's reach (its patient's) answers 404, like the patient.
PLAN = patient_of(CarePlan, "plan_id")


def _read(plan, what: str = ""):
    record("read", "plan", plan.id, plan.patient_id, detail=what, caller=request_caller())
    return plan


_STALE_FIELDS = ("id", "discipline_code", "kind", "phase_name", "plan_week", "provider_id", "starts_at", "ends_at")


def _stale(plan):
    return [{**{name: getattr(appointment, name) for name in _STALE_FIELDS}, "why": why}
            for appointment, why in service.stale_with_reasons(plan)]


@blp.route("")
class Plans(MethodView):
    @login_required()
    @blp.arguments(PlanQuerySchema, location="query")
    @blp.response(200, PlanOutSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Plans the caller may see, newest first"""
        plans = page_of(service.list_plans(caller=request_caller(), **query), pagination_parameters)
        record_listed("plan", plans, query.get("patient_id"), caller=request_caller())
        return plans

    @login_required(*STAFF)
    @located("plans.PlanById", plan_id="id")
    @blp.arguments(PlanCreateSchema, examples={
        "from_intake": {"summary": "From an intake",
                        "value": {"intake_id": 7, "start_date": "2027-01-11",
                                  "care_team": [{"discipline": "physiotherapy", "provider_id": 3, "required": True}]}},
        "without_intake": {"summary": "Without an intake",
                           "value": {"patient_id": 12, "region": "lumbar", "severity": "moderate",
                                     "pain_stress_or_insomnia": True, "reason": "referred by the family doctor"}}})
    @blp.response(201, PlanOutSchema)
    @blp.alt_response(422, schema=RedFlagErrorSchema,
                      description="not valid, or (code `red_flag`) the intake's red flag is not overridden")
    def post(self, data):
        """Build a draft plan from an intake, or from a patient, region and severity, and the template"""
        return service.build_plan(data, caller=request_caller())


@blp.route("/<int:plan_id>")
class PlanById(MethodView):
    @login_required(patient=PLAN)
    @blp.response(200, PlanOutSchema)
    def get(self, plan_id):
        """One care plan: its phases, disciplines, care team and status, with an `ETag`."""
        return with_etag(_read(service.get_plan(plan_id)))

    @login_required(*STAFF, patient=PLAN)
    @blp.arguments(PlanRevisionSchema)
    @blp.response(200, PlanOutSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the plan is no longer a draft")
    @documents_if_match(blp, "the plan")
    def patch(self, data, plan_id):
        """Change a draft plan's start date, assessment, phases and lines or care team (a new version)"""
        return with_etag(service.revise_plan(plan_id, data, caller=request_caller(),
                                             expected_version=if_match(CarePlan, plan_id)))


@blp.route("/<int:plan_id>/status")
class PlanStatus(MethodView):
    @login_required(*STAFF, "provider", patient=PLAN)
    @blp.arguments(StatusChangeSchema)
    @blp.response(200, PlanOutSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the plan's status cannot follow its current one")
    @documents_if_match(blp, "the plan (GET /plans/{plan_id})")
    def post(self, data, plan_id):
        """Start (booked to active), complete or cancel a plan; a plan is booked by booking its schedule"""
        return with_etag(service.set_status(plan_id, data["status"], data["reason"], caller=request_caller(),
                                            expected_version=if_match(CarePlan, plan_id)))


@blp.route("/<int:plan_id>/versions")
class PlanVersions(MethodView):
    @login_required(*STAFF, "provider", patient=PLAN)
    @blp.response(200, PlanVersionOutSchema(many=True))
    def get(self, plan_id):
        """Every version of the plan: who changed it, when, why, and the plan as it then stood"""
        return _read(service.get_plan(plan_id), "versions").versions


@blp.route("/<int:plan_id>/phases/<string:phase_name>")
class PlanPhase(MethodView):
    @login_required(*CLINICIANS, patient=PLAN)
    @blp.arguments(PhaseChangeSchema)
    @blp.response(200, PhaseChangeOutSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the plan is not active, or the phase is over")
    @documents_if_match(blp, "the plan (GET /plans/{plan_id})")
    def patch(self, data, plan_id, phase_name):
        """A clinician extends, shortens or advances a phase of an active plan (a new version); the ETag
        answered is the plan's"""
        plan = service.change_phase(plan_id, phase_name, data, caller=request_caller(),
                                    expected_version=if_match(CarePlan, plan_id))
        return {"plan": plan, "stale_appointments": _stale(plan)}, {"ETag": etag(plan)}


@blp.route("/<int:plan_id>/stale-appointments")
class PlanStaleAppointments(MethodView):
    @login_required(*STAFF, "provider", patient=PLAN)
    @blp.response(200, StaleAppointmentSchema(many=True))
    def get(self, plan_id):
        """Future appointments of the plan that it no longer asks for, each with why"""
        return _stale(_read(service.get_plan(plan_id), "stale appointments"))


@blp.route("/<int:plan_id>/problem")
class PlanProblem(MethodView):
    @login_required(*STAFF, patient=PLAN)
    @blp.arguments(ProblemQuerySchema, location="query")
    @blp.response(200, description="the scheduling problem (format v1, shared/scheduling-problem.md) "
                                   "for this plan; ids are provider-<id> and patient-<id>")
    def get(self, query, plan_id):
        """The plan as a problem document for the optimizer"""
        return problem_for_plans([_read(service.get_plan(plan_id), "problem export")], **query)
