from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.audit.service import record, record_listed
from careplan.auth.access import login_required, patient_of
from careplan.auth.service import current_user
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
        notes = page_of(service.list_notes(patient_id), pagination_parameters)
        record_listed("note", notes, patient_id)
        return notes

    @login_required(*CLINICIANS, patient="patient_id")
    @blp.arguments(NoteInSchema)
    @blp.response(201, NoteOutSchema)
    def post(self, data, patient_id):
        return service.write_note(patient_id, data, author=current_user())


@blp.route("/notes/<int:note_id>")
class NoteById(MethodView):
    @login_required(*CLINICIANS, patient=patient_of(Note, "note_id"))
    @blp.response(200, NoteWithHistorySchema)
    def get(self, note_id):
        note = service.get_note(note_id)
        record("read", "note", note.id, note.patient_id, detail=f"with {len(note.versions)} versions")
        return note

    @login_required(*CLINICIANS, patient=patient_of(Note, "note_id"))
    @blp.arguments(AmendmentSchema)
    @blp.response(200, NoteWithHistorySchema)
    @blp.alt_response(403, description="only the author may amend a note")
    def patch(self, data, note_id):
        return service.amend_note(note_id, data, author=current_user())
