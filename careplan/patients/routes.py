from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.auth.access import STAFF, login_required
from careplan.pagination import page_of
from careplan.patients import service
from careplan.patients.schemas import PatientQuerySchema, PatientSchema

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients", description="Patients and their availability")


@blp.route("")
class Patients(MethodView):
    @login_required(*STAFF)
    @blp.arguments(PatientQuerySchema, location="query")
    @blp.response(200, PatientSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        return page_of(service.list_patients(**query), pagination_parameters)

    @login_required(*STAFF)
    @blp.arguments(PatientSchema)
    @blp.response(201, PatientSchema)
    def post(self, data):
        return service.create_patient(data)


@blp.route("/<int:patient_id>")
class PatientById(MethodView):
    @login_required(*STAFF)
    @blp.response(200, PatientSchema)
    def get(self, patient_id):
        return service.get_patient(patient_id)

    @login_required(*STAFF)
    @blp.arguments(PatientSchema(partial=True))
    @blp.response(200, PatientSchema)
    def patch(self, data, patient_id):
        return service.update_patient(patient_id, data)

    @login_required("admin")
    @blp.response(204)
    def delete(self, patient_id):
        service.delete_patient(patient_id)
