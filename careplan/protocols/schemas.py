from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from careplan.protocols.models import CONDITIONS, REGIONS, SEVERITIES
from careplan.schemas import ClinicDateTime, SessionMinutes, WholeNumber

PHASE_NAMES = ("acute", "subacute", "maintenance")

class SessionLineSchema(Schema):
    discipline = fields.String(required=True, validate=validate.Length(min=1, max=40))
    per_week = WholeNumber(required=True, validate=validate.Range(min=1, max=14))
    every_weeks = WholeNumber(load_default=1, validate=validate.Range(min=1, max=52),
                                 metadata={"description": "1: every week; 2: every other week; ..."})
    minutes = SessionMinutes(required=True)
    min_gap_days = WholeNumber(load_default=1, validate=validate.Range(min=0, max=7),
                                  metadata={"description": "least calendar days between two of these sessions"})
    mode = fields.String(validate=validate.OneOf(("in_person", "virtual", "either")),
                         metadata={"description": "in_person; virtual: by video only; either: by video when the "
                                                  "patient accepts it"})


class AssessmentSchema(Schema):
    discipline = fields.String(required=True, validate=validate.Length(min=1, max=40))
    minutes = SessionMinutes(required=True)


def unique_disciplines(lines: list[dict]) -> None:
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line["discipline"] in seen:
            raise ValidationError({"sessions": {i: {"discipline": ["is already listed in this phase"]}}})
        seen.add(line["discipline"])


class PhaseSchema(Schema):
    name = fields.String(required=True, validate=validate.OneOf(PHASE_NAMES))
    weeks = WholeNumber(required=True, validate=validate.Range(min=1, max=52))
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=600),
                            metadata={"description": "what the phase is for, in words the patient reads"})
    sessions = fields.List(fields.Nested(SessionLineSchema), required=True)

    @validates_schema
    def _one_line_per_discipline(self, data, **kwargs):
        unique_disciplines(data.get("sessions") or [])


def phases_in_order(phases: list[dict]) -> None:
    names = [p["name"] for p in phases]
    if len(set(names)) != len(names) or names != sorted(names, key=PHASE_NAMES.index):
        raise ValidationError({"phases": [f"phases must be distinct and in the order {', '.join(PHASE_NAMES)}"]})


class ConditionalLineSchema(Schema):
    when = fields.String(required=True, validate=validate.OneOf(CONDITIONS),
                         metadata={"description": "the intake answer that brings this line in"})
    phases = fields.List(fields.String(validate=validate.OneOf(PHASE_NAMES)), required=True,
                         validate=validate.Length(min=1))
    instead_of = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=40),
                               metadata={"description": "the discipline whose line this one replaces; "
                                                        "empty: the line is added"})
    line = fields.Nested(SessionLineSchema, required=True)


class TemplateBodySchema(Schema):
    assessment = fields.Nested(AssessmentSchema, allow_none=True, load_default=None)
    phases = fields.List(fields.Nested(PhaseSchema), required=True, validate=validate.Length(min=1))
    conditional_lines = fields.List(fields.Nested(ConditionalLineSchema), load_default=list)

    @validates_schema
    def _coherent(self, data, **kwargs):
        if "phases" not in data:
            return
        phases_in_order(data["phases"])
        names = {p["name"] for p in data["phases"]}
        for i, conditional in enumerate(data.get("conditional_lines") or []):
            unknown = [name for name in conditional["phases"] if name not in names]
            if unknown:
                raise ValidationError({"conditional_lines": {i: {"phases": [f"no phase {unknown[0]} in this template"]}}})


class TemplateSchema(TemplateBodySchema):
    id = WholeNumber(dump_only=True)
    condition = fields.String(load_default="radiculopathy", validate=validate.OneOf(["radiculopathy"]))
    region = fields.String(required=True, validate=validate.OneOf(REGIONS))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    version = WholeNumber(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    note = fields.String(load_default="", validate=validate.Length(max=400),
                         metadata={"description": "why this version was made"})
    total_weeks = WholeNumber(dump_only=True)
    created_at = ClinicDateTime(dump_only=True)
    created_by_id = WholeNumber(dump_only=True, allow_none=True)


class TemplateVersionSchema(TemplateBodySchema):
    """A new version of an existing template: its condition, region and severity stay."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    note = fields.String(required=True, validate=validate.Length(min=1, max=400),
                         metadata={"description": "why this version was made"})


class TemplateQuerySchema(Schema):
    region = fields.String(validate=validate.OneOf(REGIONS))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    all_versions = fields.Boolean(load_default=False,
                                  metadata={"description": "every version, not only the current one of each"})
