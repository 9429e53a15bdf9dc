from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from careplan.plans.models import PLAN_STATUSES
from careplan.protocols.models import REGIONS, SEVERITIES
from careplan.protocols.schemas import AssessmentSchema, PhaseSchema, phases_in_order
from careplan.schemas import ClinicDate, ClinicDateTime, WholeNumber

_REASON = dict(validate=validate.Length(min=1, max=2000), metadata={"description": "why, in a sentence; kept"})


_REQUIRED = {"description": "true: only this provider gives the patient this discipline (sessions they cannot "
                            "take stay unscheduled); false: preferred, the schedule may use someone else"}


class CareTeamMemberSchema(Schema):
    discipline = fields.String(required=True, validate=validate.Length(min=1, max=40), attribute="discipline_code",
                               data_key="discipline")
    provider_id = WholeNumber(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    required = fields.Boolean(metadata=_REQUIRED)


class CareTeamInSchema(Schema):
    discipline = fields.String(required=True, validate=validate.Length(min=1, max=40))
    provider_id = WholeNumber(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    required = fields.Boolean(load_default=False, metadata=_REQUIRED)


class PlanCreateSchema(Schema):
    intake_id = WholeNumber(validate=validate.Range(min=1, max=2**31 - 1),
                               metadata={"description": "build from this intake (its patient, region, severity, "
                                                        "conditions and referral signs)"})
    patient_id = WholeNumber(validate=validate.Range(min=1, max=2**31 - 1),
                                metadata={"description": "without an intake: the patient"})
    region = fields.String(validate=validate.OneOf(REGIONS), metadata={"description": "without an intake"})
    severity = fields.String(validate=validate.OneOf(SEVERITIES), metadata={"description": "without an intake"})
    pain_stress_or_insomnia = fields.Boolean(metadata={"description": "without an intake: add psychotherapy"})
    prefers_acupuncture = fields.Boolean(metadata={"description": "without an intake: acupuncture for massage"})
    template_id = WholeNumber(validate=validate.Range(min=1, max=2**31 - 1),
                                 metadata={"description": "a particular template version; default the current one"})
    start_date = ClinicDate(metadata={"description": "the first day care may start; default today"})
    care_team = fields.List(fields.Nested(CareTeamInSchema), load_default=list)
    reason = fields.String(validate=validate.Length(min=1, max=2000))


class PlanRevisionSchema(Schema):
    reason = fields.String(required=True, **_REASON)
    start_date = ClinicDate()
    assessment = fields.Nested(AssessmentSchema, allow_none=True)
    phases = fields.List(fields.Nested(PhaseSchema), validate=validate.Length(min=1),
                         metadata={"description": "every phase with its lines, replacing the plan's"})
    care_team = fields.List(fields.Nested(CareTeamInSchema),
                            metadata={"description": "the whole care team, replacing the plan's"})

    @validates_schema
    def _phases(self, data, **kwargs):
        if data.get("phases"):
            phases_in_order(data["phases"])
        if set(data) == {"reason"}:
            raise ValidationError("change at least one of start_date, assessment, phases, care_team", "reason")


class StatusChangeSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["active", "completed", "cancelled"]))
    reason = fields.String(required=True, **_REASON)


class PhaseChangeSchema(Schema):
    change = fields.String(required=True, validate=validate.OneOf(["extend", "shorten", "advance"]),
                           metadata={"description": "extend or shorten by `weeks`; advance: the phase ends "
                                                    "this week and the next one starts next week"})
    weeks = WholeNumber(validate=validate.Range(min=1, max=26))
    reason = fields.String(required=True, **_REASON)

    @validates_schema
    def _weeks_given(self, data, **kwargs):
        if data.get("change") in ("extend", "shorten") and "weeks" not in data:
            raise ValidationError("how many weeks to extend or shorten by", "weeks")


class PlanLineOutSchema(Schema):
    discipline = fields.String(attribute="discipline_code")
    per_week = WholeNumber()
    every_weeks = WholeNumber()
    minutes = WholeNumber()
    min_gap_days = WholeNumber()
    mode = fields.String()


class PlanPhaseOutSchema(Schema):
    position = WholeNumber()
    name = fields.String()
    purpose = fields.String()
    weeks = WholeNumber()
    first_week = WholeNumber(metadata={"description": "the plan week it starts in (week 0 holds start_date)"})
    starts_on = ClinicDate()
    ends_on = ClinicDate()
    sessions = fields.List(fields.Nested(PlanLineOutSchema), attribute="lines")


class ReferralSignSchema(Schema):
    sign = fields.String()
    why = fields.String()


class TemplateRefSchema(Schema):
    id = WholeNumber()
    version = WholeNumber()
    name = fields.String()


class PlanOutSchema(Schema):
    id = WholeNumber()
    patient_id = WholeNumber()
    status = fields.String(metadata={"enum": list(PLAN_STATUSES)})
    condition = fields.String()
    region = fields.String()
    severity = fields.String()
    start_date = ClinicDate()
    ends_on = ClinicDate()
    total_weeks = WholeNumber()
    version = WholeNumber()
    assessment = fields.Nested(AssessmentSchema, allow_none=True)
    phases = fields.List(fields.Nested(PlanPhaseOutSchema))
    care_team = fields.List(fields.Nested(CareTeamMemberSchema))
    intake_id = WholeNumber(allow_none=True)
    template = fields.Nested(TemplateRefSchema, attribute="template_snapshot", allow_none=True,
                             metadata={"description": "the template version the plan was built from"})
    referral_advised = fields.Boolean(metadata={"description": "specialist-referral signs at intake"})
    referral_signs = fields.List(fields.Nested(ReferralSignSchema), attribute="referral_advice")
    created_at = ClinicDateTime()
    updated_at = ClinicDateTime()


class PlanQuerySchema(Schema):
    patient_id = WholeNumber(validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(validate=validate.OneOf(PLAN_STATUSES))


class PlanVersionOutSchema(Schema):
    version = WholeNumber()
    created_at = ClinicDateTime()
    created_by_id = WholeNumber(allow_none=True)
    reason = fields.String()
    snapshot = fields.Dict(metadata={"description": "the plan after this change: status, start_date, "
                                                    "assessment, phases with sessions, care_team"})


class StaleAppointmentSchema(Schema):
    id = WholeNumber()
    discipline = fields.String(attribute="discipline_code")
    kind = fields.String()
    phase = fields.String(attribute="phase_name", allow_none=True)
    week = WholeNumber(attribute="plan_week", allow_none=True)
    provider_id = WholeNumber()
    start = ClinicDateTime(attribute="starts_at")
    end = ClinicDateTime(attribute="ends_at")
    why = fields.String()


class PhaseChangeOutSchema(Schema):
    plan = fields.Nested(PlanOutSchema)
    stale_appointments = fields.List(fields.Nested(StaleAppointmentSchema),
                                     metadata={"description": "future appointments the plan no longer asks for"})


class ProblemQuerySchema(Schema):
    start = ClinicDate(metadata={"description": "a Monday; default the Monday of the plan's week 0"})
    weeks = WholeNumber(validate=validate.Range(min=1, max=104))
