from marshmallow import Schema, fields, validate

from careplan.auth.models import ROLES
from careplan.schemas import ClinicDateTime, WholeNumber


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    token_name = fields.String(load_default="login", validate=validate.Length(max=100),
                               metadata={"description": "what the token is for, shown in the token list"})
    days = WholeNumber(load_default=None, validate=validate.Range(min=1, max=365),
                          metadata={"description": "lifetime in days (default API_TOKEN_DAYS)"})


class UserSchema(Schema):
    id = WholeNumber(dump_only=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    provider_id = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1),
                                 metadata={"description": "the provider a provider account belongs to"})
    patient_id = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1),
                                metadata={"description": "the patient a patient account belongs to"})
    password = fields.String(load_only=True, validate=validate.Length(min=10, max=200),
                             metadata={"description": "at least 10 characters and hard to guess (not a common "
                                                      "password, keyboard walk or the e-mail); leave out for an "
                                                      "account that signs in by token only"})
    active = fields.Boolean(metadata={"description": "false: the user cannot sign in; their sessions and tokens end"})
    created_at = ClinicDateTime(dump_only=True)
    locked_until = ClinicDateTime(dump_only=True, allow_none=True)


class UserUpdateSchema(UserSchema):
    class Meta:
        exclude = ("email",)


class UserQuerySchema(Schema):
    role = fields.String(validate=validate.OneOf(ROLES))
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "part of the e-mail"})


class TokenSchema(Schema):
    id = WholeNumber(dump_only=True)
    name = fields.String(dump_only=True)
    created_at = ClinicDateTime(dump_only=True)
    expires_at = ClinicDateTime(dump_only=True)
    revoked_at = ClinicDateTime(dump_only=True, allow_none=True)
    last_used_at = ClinicDateTime(dump_only=True, allow_none=True)


class IssuedTokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "the bearer token; shown this once only"})
    expires_at = ClinicDateTime(required=True)
    user = fields.Nested(UserSchema, required=True)
