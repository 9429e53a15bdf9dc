from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.audit.service import record_listed
from careplan.auth.access import login_required, patient_of
from careplan.auth.edge import request_caller
from careplan.notes import service
from careplan.notes.models import Note
from careplan.notes.schemas import AmendmentSchema, NoteInSchema, NoteOutSchema, NoteWithHistorySchema
from careplan.pagination import page_of

blp = Blueprint("notes", __name__, url_prefix="/api/v1", description="The care team's shared clinical notes")

# Clinical notes are for the clinicians on the patient's care team only: not the front desk, not
# administrators (they see who read what in the audit trail, not the notes), not the patient.
CLINICIANS = ("provider",)


@blp.route("/patients/<int:patient_id>/notes")
class PatientNotes(MethodView):
    @login_required(*CLINICIANS, patient="patient_id")
    @blp.response(200, NoteOutSchema(many=True))
    @blp.paginate()
    def get(self, patient_id, pagination_parameters):
        """The shared notes of a patient's care team that the caller may read, newest first."""
        notes = page_of(service.list_notes(patient_id, caller=request_caller()), pagination_parameters)
        record_listed("note", notes, patient_id, caller=request_caller())
        return notes

    @login_required(*CLINICIANS, patient="patient_id")
    @located("notes.NoteById", note_id="id")
    @blp.arguments(NoteInSchema, example={
        "discipline": "physiotherapy", "appointment_id": 88, "visibility": "team",
        "subjective": "Less pain when sitting; still wakes at night.", "objective": "SLR 60 degrees left.",
        "assessment": "Improving radicular signs.", "plan": "Continue nerve glides; review in one week."})
    @blp.response(201, NoteOutSchema)
    def post(self, data, patient_id):
        """Add a shared note to a patient's record."""
        return service.write_note(patient_id, data, caller=request_caller())


@blp.route("/notes/<int:note_id>")
class NoteById(MethodView):
    @login_required(*CLINICIANS, patient=patient_of(Note, "note_id"))
    @blp.response(200, NoteWithHistorySchema)
    def get(self, note_id):
        """One shared note."""
        return service.read_note(note_id, caller=request_caller())

    @login_required(*CLINICIANS, patient=patient_of(Note, "note_id"))
    @blp.arguments(AmendmentSchema)
    @blp.response(200, NoteWithHistorySchema)
    @blp.alt_response(403, description="only the author may amend a note")
    def patch(self, data, note_id):
        """Change a shared note (its author only)."""
        return service.amend_note(note_id, data, caller=request_caller())
