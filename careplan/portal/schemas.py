from marshmallow import Schema, ValidationError, fields, validates_schema

from careplan.scheduling.schemas import AppointmentSchema


class ConfirmManySchema(Schema):
    week_of = fields.Date(metadata={"description": "any day of the clinic week (Monday to Sunday) to confirm"})
    all_upcoming = fields.Boolean(metadata={"description": "true: confirm every upcoming appointment"})

    @validates_schema
    def _one_scope(self, data, **kwargs):
        # Confirming everything is never what an empty body meant.
        if ("week_of" in data) == bool(data.get("all_upcoming")):
            raise ValidationError("give either week_of or all_upcoming: true", "week_of")


class ConfirmedSchema(Schema):
    confirmed = fields.List(fields.Nested(AppointmentSchema), metadata={
        "description": "the appointments confirmed by this request (those confirmed before are left out)"})
