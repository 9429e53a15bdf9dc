from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.audit.service import record, record_listed
from careplan.auth.access import STAFF, login_required, patient_of
from careplan.auth.edge import request_caller
from careplan.errors import ErrorSchema
from careplan.extensions import db
from careplan.intake import service
from careplan.intake.models import Intake
from careplan.intake.schemas import IntakeOutSchema, IntakeSchema, OverrideSchema, RedFlagErrorSchema
from careplan.pagination import page_of

blp = Blueprint("intake", __name__, url_prefix="/api/v1", description="Intake and the red-flag screen")

CLINICIANS = ("provider", "admin")


def _red_flag_screen(user, view_args: dict) -> bool:
    """A red-flag screen is open to any active clinician, who may judge it (not the rest of the record)."""
    return service.may_judge_red_flag(user, db.session.get(Intake, view_args["intake_id"]))


@blp.route("/patients/<int:patient_id>/intakes")
class PatientIntakes(MethodView):
    @login_required(*STAFF, "provider", patient="patient_id")
    @blp.response(200, IntakeOutSchema(many=True))
    @blp.paginate()
    def get(self, patient_id, pagination_parameters):
        """A patient's intakes, newest first."""
        intakes = page_of(service.list_intakes(patient_id), pagination_parameters)
        record_listed("intake", intakes, patient_id, caller=request_caller())
        return intakes

    @login_required(*STAFF, "provider", patient="patient_id")
    @located("intake.IntakeById", intake_id="id")
    @blp.arguments(IntakeSchema)
    @blp.response(201, IntakeOutSchema)
    @blp.alt_response(422, schema=RedFlagErrorSchema,
                      description="a field is not valid, or (code `red_flag`) the screen found a red flag: "
                                  "urgent medical care is needed; the screen is recorded and its id is "
                                  "`error.intake_id`")
    def post(self, data, patient_id):
        """Record an intake and its red-flag screen; a red flag answers 422 `red_flag` and the screen is kept."""
        return service.record_intake(patient_id, data, caller=request_caller())


@blp.route("/intakes/<int:intake_id>")
class IntakeById(MethodView):
    @login_required(*STAFF, "provider", patient=patient_of(Intake, "intake_id"), also=_red_flag_screen)
    @blp.response(200, IntakeOutSchema)
    def get(self, intake_id):
        """One intake and its red-flag screen."""
        intake = service.get_intake(intake_id)
        record("read", "intake", intake.id, intake.patient_id, caller=request_caller())
        return intake


@blp.route("/intakes/<int:intake_id>/override")
class IntakeOverride(MethodView):
    @login_required(*CLINICIANS, patient=patient_of(Intake, "intake_id"), also=_red_flag_screen)
    @blp.arguments(OverrideSchema)
    @blp.response(200, IntakeOutSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the intake has no red flag to override")
    def post(self, data, intake_id):
        """A clinician overrides the intake's red flag, giving the reason, so a plan can be made."""
        return service.override_red_flag(intake_id, data["reason"], caller=request_caller())
