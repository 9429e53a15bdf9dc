from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from careplan.schemas import ClinicDateTime, WithAvailability, WholeNumber


class ProviderSchema(WithAvailability):
    id = WholeNumber(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(validate=validate.Length(max=40))
    active = fields.Boolean()
    version = WholeNumber(dump_only=True, metadata={"description": "counts the record's changes (see ETag)"})
    disciplines = fields.List(fields.String(validate=validate.Length(min=1, max=40)), required=True,
                              validate=validate.Length(min=1, error="a provider needs at least one discipline"),
                              attribute="discipline_codes")


class TimeOffSchema(Schema):
    id = WholeNumber(dump_only=True)
    start = ClinicDateTime(required=True, attribute="starts_at")
    end = ClinicDateTime(required=True, attribute="ends_at")
    reason = fields.String(validate=validate.Length(max=200))

    @validates_schema
    def _start_before_end(self, data, **kwargs):
        if "starts_at" in data and "ends_at" in data and data["starts_at"] >= data["ends_at"]:
            raise ValidationError("must be after start", "end")


class ProviderOutSchema(ProviderSchema):
    time_off = fields.List(fields.Nested(TimeOffSchema), dump_only=True)


class ProviderQuerySchema(Schema):
    discipline = fields.String(metadata={"description": "only providers of this discipline"})
    active = fields.Boolean(metadata={"description": "only active (true) or inactive (false) providers"})
