from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.auth.access import STAFF, login_required, reach_patient
from careplan.auth.service import current_user
from careplan.errors import ErrorSchema
from careplan.intake import service
from careplan.intake.schemas import IntakeOutSchema, IntakeSchema, OverrideSchema, RedFlagErrorSchema
from careplan.pagination import page_of

blp = Blueprint("intake", __name__, url_prefix="/api/v1", description="Intake and the red-flag screen")

CLINICIANS = ("provider", "admin")


@blp.route("/patients/<int:patient_id>/intakes")
class PatientIntakes(MethodView):
    @login_required(*STAFF, "provider")
    @blp.response(200, IntakeOutSchema(many=True))
    @blp.paginate()
    def get(self, patient_id, pagination_parameters):
        reach_patient(patient_id)
        return page_of(service.list_intakes(patient_id), pagination_parameters)

    @login_required(*STAFF, "provider")
    @blp.arguments(IntakeSchema)
    @blp.response(201, IntakeOutSchema)
    @blp.alt_response(422, schema=RedFlagErrorSchema,
                      description="a field is not valid, or (code `red_flag`) the screen found a red flag: "
                                  "urgent medical care is needed; the screen is recorded and its id is "
                                  "`error.intake_id`")
    def post(self, data, patient_id):
        reach_patient(patient_id)
        return service.record_intake(patient_id, data, user_id=current_user().id)


@blp.route("/intakes/<int:intake_id>")
class IntakeById(MethodView):
    @login_required(*STAFF, "provider")
    @blp.response(200, IntakeOutSchema)
    def get(self, intake_id):
        intake = service.get_intake(intake_id)
        reach_patient(intake.patient_id)
        return intake


@blp.route("/intakes/<int:intake_id>/override")
class IntakeOverride(MethodView):
    @login_required(*CLINICIANS)
    @blp.arguments(OverrideSchema)
    @blp.response(200, IntakeOutSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the intake has no red flag to override")
    def post(self, data, intake_id):
        reach_patient(service.get_intake(intake_id).patient_id)
        return service.override_red_flag(intake_id, data["reason"], user_id=current_user().id)
