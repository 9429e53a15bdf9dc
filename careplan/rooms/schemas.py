from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from careplan.schemas import ClinicDateTime, WholeNumber

KIND = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,39}$",
                       error="a short lower-case name of letters, digits and dashes, e.g. treatment-table")


class LocationInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120),
                         metadata={"example": "East clinic"})
    address = fields.String(load_default="", validate=validate.Length(max=400),
                            metadata={"example": "12 King St E, Toronto ON"})
    active = fields.Boolean(load_default=True)


class LocationSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    active = fields.Boolean()
    created_at = ClinicDateTime()


class RoomInSchema(Schema):
    location_id = WholeNumber(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120), metadata={"example": "Table 1"})
    kind = fields.String(validate=KIND, metadata={
        "example": "treatment-table",
        "description": "the kind of room; or give `disciplines` and the kind is theirs"})
    disciplines = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                              validate=validate.Length(min=1, max=20), metadata={
        "example": ["massage", "physiotherapy"],
        "description": "the disciplines whose sessions it serves: they hold a room of its kind (the kind they "
                       "hold already, or, for those that hold none yet, this room's)"})
    capacity = WholeNumber(load_default=1, validate=validate.Range(min=1, max=100),
                           metadata={"description": "sessions that can use it at once"})
    active = fields.Boolean(load_default=True)

    @validates_schema
    def _kind_or_disciplines(self, data, partial=None, **kwargs):
        if not partial and "kind" not in data and "disciplines" not in data:
            raise ValidationError("give the room's kind or the disciplines it serves", "kind")


class RoomSchema(Schema):
    id = fields.Integer()
    location_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    disciplines = fields.Function(lambda room: [d.code for d in room.served if d.active],
                                  metadata={"description": "the disciplines whose sessions hold a room of its kind"})
    capacity = fields.Integer()
    active = fields.Boolean()
    created_at = ClinicDateTime()


class RoomQuerySchema(Schema):
    location_id = WholeNumber()
    kind = fields.String(validate=KIND)
