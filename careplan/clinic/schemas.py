from marshmallow import Schema, fields, validate

from careplan.clinic.models import NOTE_VISIBILITIES
from careplan.schemas import WholeNumber
from careplan.i18n import LANGUAGES


class ClinicSettingsSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    address = fields.String(validate=validate.Length(max=400))
    phone = fields.String(validate=validate.Length(max=40))
    timezone = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "IANA zone name"})
    slot_minutes = WholeNumber(validate=validate.OneOf([5, 10, 15, 20, 30, 60]))
    transition_minutes = WholeNumber(validate=validate.Range(min=0, max=120))
    max_wait_minutes = WholeNumber(validate=validate.Range(min=0, max=600))
    late_cancel_hours = WholeNumber(validate=validate.Range(min=0, max=168))
    hold_minutes = WholeNumber(validate=validate.Range(min=1, max=240))
    max_sessions_per_day = WholeNumber(validate=validate.Range(min=1, max=12), metadata={
        "description": "the most sessions a patient is given in one day (a patient's record may lower it)"})
    default_language = fields.String(validate=validate.OneOf(LANGUAGES), metadata={
        "description": "the language of patients whose record names none"})


class DisciplineSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z_]{1,39}$",
                                                                  error="lower-case letters and _ only"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    practitioner_title = fields.String(required=True, validate=validate.Length(min=1, max=80))
    core = fields.Boolean()
    active = fields.Boolean()
    note_visibility = fields.String(validate=validate.OneOf(NOTE_VISIBILITIES), metadata={
        "description": "who reads this discipline's notes unless the author chooses otherwise: the care team, "
                       "the discipline's clinicians on it, or the author only"})
    room_kind = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[a-z0-9][a-z0-9-]{0,39}$", error="a short lower-case name of letters, digits and dashes"), metadata={
        "description": "the kind of room or equipment an in-person session holds (e.g. treatment-table); "
                       "null: none", "example": "treatment-table"})


class DisciplineQuerySchema(Schema):
    include_inactive = fields.Boolean(load_default=False)
