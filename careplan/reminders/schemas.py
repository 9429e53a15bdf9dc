from marshmallow import Schema, fields, validate

from careplan.reminders.models import EMAIL_KINDS, EMAIL_STATUSES
from careplan.schemas import ClinicDateTime, WholeNumber


class OutboundEmailSchema(Schema):
    id = WholeNumber(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(EMAIL_KINDS)})
    status = fields.String(dump_only=True, metadata={"enum": list(EMAIL_STATUSES)})
    patient_id = WholeNumber(dump_only=True)
    appointment_id = WholeNumber(dump_only=True, allow_none=True)
    offset_hours = WholeNumber(dump_only=True, allow_none=True,
                                  metadata={"description": "reminders: hours before the appointment, by the wall clock"})
    due_at = ClinicDateTime(dump_only=True)
    attempts = WholeNumber(dump_only=True)
    next_attempt_at = ClinicDateTime(dump_only=True, allow_none=True)
    last_error = fields.String(dump_only=True)
    recipient = fields.String(dump_only=True)
    message_id = fields.String(dump_only=True, allow_none=True)
    sent_at = ClinicDateTime(dump_only=True, allow_none=True)


class OutboundEmailQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(EMAIL_STATUSES))
    kind = fields.String(validate=validate.OneOf(EMAIL_KINDS))
    patient_id = WholeNumber(validate=validate.Range(min=1, max=2**31 - 1))
    appointment_id = WholeNumber(validate=validate.Range(min=1, max=2**31 - 1))
