from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from careplan.schemas import ClinicDateTime, WholeNumber


class AuditEventSchema(Schema):
    id = WholeNumber(required=True)
    at = ClinicDateTime(required=True)
    user_id = WholeNumber(allow_none=True)
    role = fields.String(required=True)
    action = fields.String(required=True)
    resource = fields.String(required=True)
    resource_id = fields.String(required=True)
    patient_id = WholeNumber(allow_none=True)
    remote_addr = fields.String(required=True)
    origin = fields.String(required=True, metadata={"description": "web, api, worker or cli; empty before it was kept"})
    detail = fields.String(required=True)
    patients = fields.Pluck("AuditEventPatientSchema", "patient_id", many=True, metadata={
        "description": "the patients whose data a list or search returned"})


class AuditEventPatientSchema(Schema):
    patient_id = fields.Integer(required=True)


class SeenQuerySchema(Schema):
    start = ClinicDateTime(data_key="from", metadata={"description": "events at or after this instant"})
    end = ClinicDateTime(data_key="to", metadata={"description": "events before this instant"})

    @validates_schema
    def _in_order(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise ValidationError("must be after 'from'", field_name="to")


class AuditQuerySchema(SeenQuerySchema):
    """The trail's search: the same from/to window as who saw a patient, and who, whose, what."""
    user_id = WholeNumber(validate=validate.Range(min=1, max=2**31 - 1))
    patient_id = WholeNumber(validate=validate.Range(min=1, max=2**31 - 1))
    action = fields.String(validate=validate.Length(min=1, max=20))
    resource = fields.String(validate=validate.Length(min=1, max=40))
