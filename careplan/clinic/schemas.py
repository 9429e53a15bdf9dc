from marshmallow import Schema, fields, validate

from careplan.i18n import LANGUAGES


class ClinicSettingsSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    address = fields.String(validate=validate.Length(max=400))
    phone = fields.String(validate=validate.Length(max=40))
    timezone = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "IANA zone name"})
    slot_minutes = fields.Integer(validate=validate.OneOf([5, 10, 15, 20, 30, 60]))
    transition_minutes = fields.Integer(validate=validate.Range(min=0, max=120))
    max_wait_minutes = fields.Integer(validate=validate.Range(min=0, max=600))
    late_cancel_hours = fields.Integer(validate=validate.Range(min=0, max=168))
    hold_minutes = fields.Integer(validate=validate.Range(min=1, max=240))
    default_language = fields.String(validate=validate.OneOf(LANGUAGES), metadata={
        "description": "the language of patients whose record names none"})


class DisciplineSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z_]{1,39}$",
                                                                  error="lower-case letters and _ only"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    practitioner_title = fields.String(required=True, validate=validate.Length(min=1, max=80))
    core = fields.Boolean()
    active = fields.Boolean()


class DisciplineQuerySchema(Schema):
    include_inactive = fields.Boolean(load_default=False)
