from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from careplan.clinic.models import NOTE_VISIBILITIES
from careplan.schemas import ClinicDateTime, WholeNumber

SOAP = ("subjective", "objective", "assessment", "plan")
_TEXT = validate.Length(max=20000)


class SoapFields(Schema):
    subjective = fields.String(validate=_TEXT, metadata={"description": "what the patient reports"})
    objective = fields.String(validate=_TEXT, metadata={"description": "what the clinician measured or observed"})
    assessment = fields.String(validate=_TEXT, metadata={"description": "the clinician's reading of it"})
    plan = fields.String(validate=_TEXT, metadata={"description": "what happens next"})


class NoteInSchema(SoapFields):
    discipline = fields.String(validate=validate.Length(min=1, max=40),
                               metadata={"description": "defaults to the author's discipline when they have one"})
    appointment_id = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1),
                                    metadata={"description": "an appointment of this patient the note is about"})
    noted_at = ClinicDateTime(metadata={"description": "when the care happened; defaults to now"})
    visibility = fields.String(validate=validate.OneOf(NOTE_VISIBILITIES), metadata={
        "description": "who reads it: `team` (the patient's care team), `discipline` (the clinicians of its "
                       "discipline on the team), `author` (only you); defaults to the discipline's "
                       "note_visibility (psychotherapy: discipline, others: team)"})

    @validates_schema
    def _says_something(self, data, **kwargs):
        if not any((data.get(part) or "").strip() for part in SOAP):
            raise ValidationError("a note needs at least one of subjective, objective, assessment, plan",
                                  field_name="subjective")


class AmendmentSchema(SoapFields):
    visibility = fields.String(validate=validate.OneOf(NOTE_VISIBILITIES),
                               metadata={"description": "change who reads it (author only)"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=400),
                           metadata={"description": "why the note is amended"})


class NoteVersionSchema(SoapFields):
    number = WholeNumber(required=True)
    reason = fields.String(required=True)
    written_at = ClinicDateTime(required=True)


class NoteOutSchema(SoapFields):
    id = WholeNumber(required=True)
    patient_id = WholeNumber(required=True)
    author_user_id = WholeNumber(required=True)
    author_provider_id = WholeNumber(required=True)
    author_name = fields.String(required=True, attribute="author_provider.name")
    discipline = fields.String(required=True, attribute="discipline_code")
    visibility = fields.String(required=True, metadata={"description": "team, discipline or author"})
    appointment_id = WholeNumber(allow_none=True)
    noted_at = ClinicDateTime(required=True)
    created_at = ClinicDateTime(required=True)
    version = WholeNumber(required=True, attribute="current.number",
                             metadata={"description": "1 for an unamended note"})
    amended_at = ClinicDateTime(allow_none=True, metadata={"description": "when the current version was written, "
                                                                           "if the note was amended"})
    subjective = fields.String(attribute="current.subjective")
    objective = fields.String(attribute="current.objective")
    assessment = fields.String(attribute="current.assessment")
    plan = fields.String(attribute="current.plan")


class NoteWithHistorySchema(NoteOutSchema):
    versions = fields.List(fields.Nested(NoteVersionSchema), required=True,
                           metadata={"description": "every version, the first as written and each amendment"})
