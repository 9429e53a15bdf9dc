from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.audit.service import record, record_listed
from careplan.auth.access import STAFF, login_required
from careplan.auth.edge import current_user, request_caller
from careplan.errors import ErrorSchema
from careplan.pagination import page_of
from careplan.patients import service
from careplan.patients.models import Patient
from careplan.patients.schemas import PatientQuerySchema, PatientSchema
from careplan.versions import documents_if_match, if_match, with_etag

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients", description="Patients and their availability")


@blp.route("")
class Patients(MethodView):
    @login_required(*STAFF, "provider")
    @blp.arguments(PatientQuerySchema, location="query")
    @blp.response(200, PatientSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Staff see every patient; a provider sees the patients whose care team they are on."""
        user = current_user()
        care_team_of = user.provider_id if user.role == "provider" else None
        patients = page_of(service.list_patients(**query, care_team_of=care_team_of), pagination_parameters)
        record_listed("patient", patients, caller=request_caller())
        return patients

    @login_required(*STAFF)
    @located("patients.PatientById", patient_id="id")
    @blp.arguments(PatientSchema, example={
        "name": "Marie Tremblay", "email": "marie.tremblay@mail.example", "phone": "+1 514 555 0142",
        "date_of_birth": "1978-04-02", "language": "fr",
        "availability": [{"day": "mon", "start": "09:00", "end": "12:00"},
                         {"day": "thu", "start": "14:00", "end": "18:00"}]})
    @blp.response(201, PatientSchema)
    def post(self, data):
        """Register a patient."""
        return service.create_patient(data, caller=request_caller())


@blp.route("/<int:patient_id>")
class PatientById(MethodView):
    @login_required(patient="patient_id")
    @blp.response(200, PatientSchema)
    def get(self, patient_id):
        """One patient's record, with an `ETag` to send back as `If-Match` when changing it."""
        patient = service.get_patient(patient_id)
        record("read", "patient", patient.id, patient.id, caller=request_caller())
        return with_etag(patient)

    @login_required(*STAFF)
    @blp.arguments(PatientSchema(partial=True))
    @blp.response(200, PatientSchema)
    @documents_if_match(blp, "the patient")
    def patch(self, data, patient_id):
        """Change a patient's record; fields left out keep their value."""
        return with_etag(service.update_patient(patient_id, data, caller=request_caller(),
                                                expected_version=if_match(Patient, patient_id)))

    @login_required("admin")
    @blp.response(204)
    @blp.alt_response(409, schema=ErrorSchema, description="the patient has plans, appointments, notes or an "
                                                           "account on record: a health record is kept")
    @documents_if_match(blp, "the patient")
    def delete(self, patient_id):
        """Remove a patient's record created by mistake (one with no history)."""
        service.delete_patient(patient_id, caller=request_caller(), expected_version=if_match(Patient, patient_id))
