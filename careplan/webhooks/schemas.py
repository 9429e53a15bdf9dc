from marshmallow import Schema, fields, validate

from careplan.schemas import ClinicDateTime
from careplan.webhooks.models import DELIVERY_STATUSES, EVENT_TYPES


class EndpointInSchema(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=2000),
                     metadata={"description": "where the events are POSTed", "example": "https://billing.example.org/careplan"})
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), required=True,
                         validate=validate.Length(min=1),
                         metadata={"example": ["appointment.booked", "appointment.cancelled"]})
    description = fields.String(load_default="", validate=validate.Length(max=200))


class EndpointSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String()
    created_at = ClinicDateTime()


class NewEndpointSchema(EndpointSchema):
    secret = fields.String(metadata={"description": "the signing secret; shown this once"})


class DeliveryQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))


class DeliverySchema(Schema):
    id = fields.Integer()
    endpoint_id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String()
    created_at = ClinicDateTime()
    next_attempt_at = ClinicDateTime(allow_none=True)
    delivered_at = ClinicDateTime(allow_none=True)
    payload = fields.Dict(metadata={"description": "the body as sent: id, type, created_at, data"})
