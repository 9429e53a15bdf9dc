from marshmallow import Schema, fields, validate

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
    kind = fields.String(required=True, validate=KIND, metadata={"example": "treatment-table"})
    capacity = WholeNumber(load_default=1, validate=validate.Range(min=1, max=100),
                           metadata={"description": "sessions that can use it at once"})
    active = fields.Boolean(load_default=True)


class RoomSchema(Schema):
    id = fields.Integer()
    location_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    capacity = fields.Integer()
    active = fields.Boolean()
    created_at = ClinicDateTime()


class RoomQuerySchema(Schema):
    location_id = WholeNumber()
    kind = fields.String(validate=KIND)
