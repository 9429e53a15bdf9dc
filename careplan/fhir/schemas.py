from marshmallow import Schema, fields

from careplan.schemas import ClinicDateTime


class CalendarFeedSchema(Schema):
    created_at = ClinicDateTime(dump_only=True, required=True)


class NewCalendarFeedSchema(CalendarFeedSchema):
    url = fields.Url(dump_only=True, required=True,
                     metadata={"description": "the private feed URL; shown once, give it to a calendar app"})
    token = fields.String(dump_only=True, required=True, metadata={"description": "the secret part of the URL"})
