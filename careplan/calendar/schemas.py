from __future__ import annotations

from marshmallow import Schema, fields, validate

from careplan.clinic.service import to_local
from careplan.scheduling.schemas import RecordId

EVENT_KINDS = ("appointment", "hold", "away", "closed")


class WallClock(fields.Field):
    """The clinic's wall clock without an offset ("2027-01-05T09:00:00"), what a calendar component places:
    the grid then shows clinic time whatever zone the browser is in. `starts_at`/`ends_at` carry the offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_local(value).replace(tzinfo=None).isoformat(timespec="seconds")


class DayQuerySchema(Schema):
    date = fields.Date(load_default=None, metadata={"description": "the clinic's day; today when left out"})
    discipline = fields.String(load_default=None, validate=validate.Length(min=1, max=40),
                               metadata={"description": "only the clinicians of this discipline"})
    location_id = fields.Integer(load_default=None, validate=RecordId,
                                 metadata={"description": "only the clinicians working at this location that day, "
                                                          "and what is booked there"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1), metadata={
        "description": "the day's clinicians come 16 to a page, by name (`pages` and `clinicians` in the answer)"})


class WeekQuerySchema(Schema):
    provider_id = fields.Integer(required=True, validate=RecordId)
    date = fields.Date(load_default=None, metadata={"description": "any day of the week; this week when left out"})


class ResourceSchema(Schema):
    id = fields.Integer()
    title = fields.String(metadata={"description": "the clinician's name"})
    disciplines = fields.List(fields.String())


class EventSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"enum": list(EVENT_KINDS)})
    resource_id = fields.Integer()
    start = WallClock()
    end = WallClock()
    starts_at = fields.Function(lambda event: to_local(event["start"]).isoformat(),
                                metadata={"description": "the start with its UTC offset"})
    ends_at = fields.Function(lambda event: to_local(event["end"]).isoformat())
    editable = fields.Boolean(metadata={"description": "whether it may be dragged to another time or clinician"})
    url = fields.String()
    appointment_id = fields.Integer()
    patient = fields.String()
    patient_id = fields.Integer()
    discipline = fields.String()
    minutes = fields.Integer()
    status = fields.String()
    arrived = fields.Boolean()
    session = fields.String(metadata={"description": "the plan session it serves, or 'single visit'"})
    visit = fields.Integer(metadata={"description": "the patient's trip of the day it belongs to (1, 2, ...)"})
    visit_sessions = fields.Integer(metadata={"description": "sessions in that trip"})
    flag = fields.String(allow_none=True, metadata={
        "description": "why the front desk must act: a change of the clinician's hours or time off left it "
                       "outside them (null when it fits)"})
    red_flag = fields.Boolean(metadata={
        "description": "the patient's latest screen is a red flag no clinician has judged yet"})
    virtual = fields.Boolean(metadata={"description": "held by video: no trip, no room"})
    proposal_id = fields.Integer()


class FeedSchema(Schema):
    date = fields.Date()
    page = fields.Integer(metadata={"description": "this page of the day's clinicians (from 1)"})
    pages = fields.Integer()
    clinicians = fields.Integer(metadata={"description": "the day's clinicians on every page"})
    slot_minutes = fields.Integer()
    opens = WallClock()
    closes = WallClock()
    resources = fields.List(fields.Nested(ResourceSchema))
    events = fields.List(fields.Nested(EventSchema))

