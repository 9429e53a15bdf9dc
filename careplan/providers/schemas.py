from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from careplan.scheduling.schemas import AppointmentSchema
from careplan.schemas import ClinicDateTime, WeeklyWindowSchema, WithAvailability, WholeNumber


class ProviderWindowSchema(WeeklyWindowSchema):
    location_id = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "the location the provider works at in this window (clinics with several)"})

    @post_dump
    def _location_when_named(self, data, **kwargs):
        # A clinic without locations sees the windows as before.
        if data.get("location_id") is None:
            data.pop("location_id", None)
        return data


class ProviderSchema(WithAvailability):
    availability = fields.List(fields.Nested(ProviderWindowSchema))
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


AFFECTED_DOC = ("the provider's future booked appointments this change leaves outside their hours or inside a "
                "time off, now flagged for the front desk (`flag_reason`) and their reminders held")


class ChangeAnswer:
    """A changed record (a provider, a time off) as answered: its own fields, and the appointments the change
    left outside the provider's hours (careplan.providers.service.CalendarChange.affected)."""

    def __init__(self, record, affected):
        self._record = record
        self.affected_appointments = affected

    def __getattr__(self, name):
        return getattr(self._record, name)


class ProviderChangedSchema(ProviderOutSchema):
    affected_appointments = fields.List(fields.Nested(AppointmentSchema), dump_only=True,
                                        metadata={"description": AFFECTED_DOC})


class TimeOffChangedSchema(TimeOffSchema):
    affected_appointments = fields.List(fields.Nested(AppointmentSchema), dump_only=True,
                                        metadata={"description": AFFECTED_DOC})
