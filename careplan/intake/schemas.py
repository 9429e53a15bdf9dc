from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from careplan.errors import ErrorDetailSchema
from careplan.intake.models import RED_FLAGS, REFERRAL_SIGNS, SCREEN_RESULTS
from careplan.protocols.models import REGIONS, SEVERITIES
from careplan.schemas import ClinicDateTime, WholeNumber

SIDES = ("left", "right", "both", "central")
DAILY_ACTIVITIES = ("unaffected", "limited", "prevented")

RedFlagScreenSchema = Schema.from_dict(
    {name: fields.Boolean(required=True, metadata={"description": f"positive: {why}"})
     for name, why in RED_FLAGS.items()}, name="RedFlagScreenSchema")

ReferralSignsSchema = Schema.from_dict(
    {name: fields.Boolean(load_default=False, metadata={"description": why})
     for name, why in REFERRAL_SIGNS.items()}, name="ReferralSignsSchema")


class SeverityAnswersSchema(Schema):
    pain_score = WholeNumber(required=True, validate=validate.Range(min=0, max=10),
                                metadata={"description": "worst pain this week, 0 (none) to 10 (worst imaginable)"})
    worsening = fields.Boolean(required=True, metadata={"description": "the symptoms are getting worse"})
    daily_activities = fields.String(required=True, validate=validate.OneOf(DAILY_ACTIVITIES),
                                     metadata={"description": "how far the pain keeps the patient from daily life"})


class IntakeSchema(Schema):
    condition = fields.String(load_default="radiculopathy", validate=validate.OneOf(["radiculopathy"]))
    region = fields.String(required=True, validate=validate.OneOf(REGIONS))
    side = fields.String(required=True, validate=validate.OneOf(SIDES))
    symptoms = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                           validate=validate.Length(max=30))
    severity = fields.String(validate=validate.OneOf(SEVERITIES),
                             metadata={"description": "as assessed; leave out to derive it from severity_answers"})
    severity_answers = fields.Nested(SeverityAnswersSchema, allow_none=True)
    pain_stress_or_insomnia = fields.Boolean(load_default=False,
                                             metadata={"description": "significant pain-related stress or insomnia"})
    prefers_acupuncture = fields.Boolean(load_default=False,
                                         metadata={"description": "acupuncture instead of massage therapy"})
    preferences = fields.String(load_default="", validate=validate.Length(max=2000))
    red_flags = fields.Nested(RedFlagScreenSchema, required=True,
                              metadata={"description": "the full red-flag screen: every question answered"})
    referral_signs = fields.Nested(ReferralSignsSchema, load_default=dict)

    @validates_schema
    def _severity_known(self, data, **kwargs):
        if not data.get("severity") and not data.get("severity_answers"):
            raise ValidationError("give the severity or the answers it is derived from", "severity")


def _overrider_name(intake):
    from careplan.intake.service import overrider_name

    return overrider_name(intake)


class OverrideOutSchema(Schema):
    reason = fields.String(attribute="override_reason")
    at = ClinicDateTime(attribute="overridden_at")
    by_user_id = WholeNumber(attribute="overridden_by_id", allow_none=True)
    by_name = fields.Function(lambda intake: _overrider_name(intake), allow_none=True,
                              metadata={"type": "string", "description": "the clinician's name (or the account's "
                                                                         "e-mail) of who overrode it"})


class IntakeOutSchema(Schema):
    id = WholeNumber()
    patient_id = WholeNumber()
    condition = fields.String()
    region = fields.String()
    side = fields.String()
    symptoms = fields.List(fields.String())
    severity = fields.String()
    severity_answers = fields.Nested(SeverityAnswersSchema, allow_none=True)
    pain_stress_or_insomnia = fields.Boolean()
    prefers_acupuncture = fields.Boolean()
    preferences = fields.String()
    red_flags = fields.Nested(RedFlagScreenSchema)
    referral_signs = fields.Nested(ReferralSignsSchema, attribute="referral")
    screen_result = fields.String(metadata={"enum": list(SCREEN_RESULTS)})
    positive_red_flags = fields.List(fields.String())
    override = fields.Nested(OverrideOutSchema, allow_none=True,
                             metadata={"description": "who overrode a red flag, when and why; null when none did"})
    created_at = ClinicDateTime()
    created_by_id = WholeNumber(allow_none=True)


class OverrideSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=10, max=2000),
                           metadata={"description": "why care may go ahead despite the red flag, in writing"})


class RedFlagErrorDetailSchema(ErrorDetailSchema):
    intake_id = WholeNumber(metadata={"description": "with code `red_flag`: the recorded screen's intake"})


class RedFlagErrorSchema(Schema):
    error = fields.Nested(RedFlagErrorDetailSchema, required=True)
