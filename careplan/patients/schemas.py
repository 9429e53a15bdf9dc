from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates

from careplan.i18n import LANGUAGES
from careplan.schemas import ClinicDate, WithAvailability, WholeNumber


class PatientSchema(WithAvailability):
    id = WholeNumber(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(validate=validate.Length(max=40))
    date_of_birth = ClinicDate(allow_none=True)
    reminder_opt_out = fields.Boolean()
    max_sessions_per_day = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=12), metadata={
        "description": "at most this many sessions in one day for this patient, below the clinic's limit; "
                       "null: the clinic's"})
    language = fields.String(allow_none=True, validate=validate.OneOf(LANGUAGES), metadata={
        "description": "what the patient reads (portal, link pages, e-mails); null: the clinic's default_language"})
    accepts_virtual = fields.Boolean(metadata={
        "description": "the patient accepts video sessions (for plan lines held by video, or either way)"})
    location_ids = fields.List(WholeNumber(validate=validate.Range(min=1, max=2**31 - 1)), metadata={
        "description": "the clinic locations the patient comes to; empty: any"})
    version = WholeNumber(dump_only=True, metadata={"description": "counts the record's changes (see ETag)"})

    @validates("date_of_birth")
    def _born(self, value, **kwargs):
        if value is not None and (value > date.today() or value.year < 1900):
            raise ValidationError("must be a past date after 1900")


class PatientQuerySchema(Schema):
    q = fields.String(validate=validate.Length(min=1, max=100),
                      metadata={"description": "part of the name, e-mail or phone"})
