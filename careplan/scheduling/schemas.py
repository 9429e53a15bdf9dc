from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from careplan.schemas import ClinicDateTime, Plausible, SessionMinutes, WholeNumber  # noqa: F401  (Plausible: kept importable here)
from careplan.scheduling.models import APPOINTMENT_STATUSES

RecordId = validate.Range(min=1, max=2**31 - 1)


class VideoLink(fields.Url):
    """A video session's address: https, at most 500 characters, or empty for none."""

    default_error_messages = {"invalid": "Not a valid https address."}

    def __init__(self, **kwargs):
        super().__init__(schemes={"https"}, require_tld=False, allow_none=False, validate=validate.Length(max=500),
                         **kwargs)

    def _validate(self, value):
        if value != "":
            super()._validate(value)


class AppointmentSchema(Schema):
    id = WholeNumber(dump_only=True)
    patient_id = WholeNumber(required=True, validate=RecordId)
    provider_id = WholeNumber(required=True, validate=RecordId)
    discipline = fields.String(required=True, attribute="discipline_code", validate=validate.Length(min=1, max=40))
    start = ClinicDateTime(required=True, attribute="starts_at")
    end = ClinicDateTime(dump_only=True, attribute="ends_at")
    minutes = SessionMinutes(required=True)
    kind = fields.String(validate=validate.OneOf(("assessment", "treatment")), load_default="treatment")
    plan_id = WholeNumber(allow_none=True, validate=RecordId)
    phase = fields.String(allow_none=True, attribute="phase_name", validate=validate.Length(max=40))
    week = WholeNumber(allow_none=True, attribute="plan_week", validate=validate.Range(min=0, max=520))
    status = fields.String(dump_only=True, metadata={"enum": list(APPOINTMENT_STATUSES)})
    cancel_reason = fields.String(dump_only=True)
    cancelled_at = ClinicDateTime(dump_only=True, allow_none=True)
    late_cancellation = fields.Boolean(dump_only=True)
    arrived_at = ClinicDateTime(dump_only=True, allow_none=True,
                                metadata={"description": "when the front desk checked the patient in"})
    sequence = WholeNumber(dump_only=True, metadata={"description": "bumped on every move, cancellation or change "
                                                                    "of video link"})
    flag_reason = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "set when a change of the provider's hours or time off left it outside them: the front "
                       "desk moves it or re-plans; its reminders are held meanwhile"})
    flagged_at = ClinicDateTime(dump_only=True, allow_none=True)
    location_id = WholeNumber(allow_none=True, validate=RecordId, metadata={
        "description": "where it is held; by default the location where the provider works then"})
    room_id = WholeNumber(allow_none=True, validate=RecordId, metadata={
        "description": "the room it holds; by default a free one of the kind its discipline needs"})
    virtual = fields.Boolean(load_default=False, metadata={"description": "held by video: no room, no trip"})
    video_link = VideoLink(load_default="", metadata={"description": "the video session's address (https)"})
    created_at = ClinicDateTime(dump_only=True)
    updated_at = ClinicDateTime(dump_only=True)


class BookingSchema(AppointmentSchema):
    """The POST body, loaded with the service's names."""

    class Meta:
        fields = ("patient_id", "provider_id", "discipline", "start", "minutes", "kind", "plan_id", "phase", "week",
                  "location_id", "room_id", "virtual", "video_link")

    @validates_schema
    def _video_link_for_video(self, data, **kwargs):
        if data.get("video_link") and not data.get("virtual"):
            raise ValidationError("only a video session (virtual: true) has a video link", "video_link")

    discipline = fields.String(required=True, validate=validate.Length(min=1, max=40))
    start = ClinicDateTime(required=True)
    phase = fields.String(allow_none=True, validate=validate.Length(max=40))
    week = WholeNumber(allow_none=True, validate=validate.Range(min=0, max=520))


class AppointmentChangeSchema(Schema):
    status = fields.String(validate=validate.OneOf(("confirmed", "cancelled", "completed", "no_show")))
    reason = fields.String(validate=validate.Length(max=400), metadata={"description": "why it is cancelled"})
    start = ClinicDateTime(validate=Plausible, metadata={"description": "a new start moves the appointment"})
    minutes = SessionMinutes()
    provider_id = WholeNumber(validate=RecordId)
    video_link = VideoLink(metadata={"description": "a video session's address (https), given or changed after "
                                                    "booking: the patient is told how to join; empty takes it away"})


class AppointmentQuerySchema(Schema):
    patient_id = WholeNumber(validate=RecordId)
    provider_id = WholeNumber(validate=RecordId)
    starts_from = ClinicDateTime(data_key="from", metadata={"description": "appointments ending after this"})
    until = ClinicDateTime(data_key="to", metadata={"description": "appointments starting before this"})
    status = fields.String(validate=validate.OneOf(APPOINTMENT_STATUSES))
    flagged = fields.Boolean(metadata={"description": "true: only those flagged for the front desk (outside the "
                                                      "provider's changed hours or inside a time off)"})


class FreeSlotQuerySchema(Schema):
    start = ClinicDateTime(required=True)
    end = ClinicDateTime(required=True)
    minutes = SessionMinutes(required=True)

    @validates_schema
    def _start_before_end(self, data, **kwargs):
        if "start" in data and "end" in data and data["start"] >= data["end"]:
            raise ValidationError("must be after start", "end")


class FreeSlotSchema(Schema):
    start = ClinicDateTime(required=True)
    end = ClinicDateTime(required=True)
