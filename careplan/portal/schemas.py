from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from careplan.schemas import ClinicDateTime
from careplan.scheduling.schemas import AppointmentSchema, Plausible, RecordId


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


class AlternativeSchema(Schema):
    provider_id = fields.Integer()
    provider_name = fields.String()
    start = ClinicDateTime()
    end = ClinicDateTime()
    same_clinician = fields.Boolean()
    extra_trips = fields.Integer(metadata={"description": "trips to the clinic that week after the move, minus before"})
    joins_a_visit = fields.Boolean(metadata={"description": "on a day the patient already comes in that week"})


class MoveOptionsSchema(Schema):
    appointment = fields.Nested(AppointmentSchema)
    late = fields.Boolean(metadata={"description": "inside the late-cancellation window: call the clinic, "
                                                   "nothing is offered"})
    alternatives = fields.List(fields.Nested(AlternativeSchema), metadata={"description": "best first"})


class MoveChoiceSchema(Schema):
    provider_id = fields.Integer(required=True, validate=RecordId)
    start = ClinicDateTime(required=True, validate=Plausible)
    sequence = fields.Integer(required=True, validate=validate.Range(min=0, max=2**31 - 1), metadata={
        "description": "the appointment's sequence the alternatives were read at"})


class EarlierSlotRequestSchema(Schema):
    id = fields.Integer()
    appointment_id = fields.Integer()
    status = fields.String(metadata={"enum": ["open", "fulfilled", "withdrawn"]})
    created_at = ClinicDateTime()
    starts_plan_sooner = fields.Method("_starts_plan_sooner", metadata={
        "type": "boolean", "description": "the session opens a plan waiting to start: a freed time in any earlier "
                                          "week fits (otherwise only one in the session's own plan week)"})

    def _starts_plan_sooner(self, request) -> bool:
        from careplan.portal.offers import opens_a_plan

        return opens_a_plan(request.appointment)
