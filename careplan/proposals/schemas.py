from marshmallow import Schema, fields, validate

from careplan.db import utcnow
from careplan.proposals.models import HOLD_ACTIONS, PROPOSAL_KINDS, PROPOSAL_STATES
from careplan.proposals.service import MAX_TIME_LIMIT
from careplan.scheduling.schemas import RecordId
from careplan.schemas import ClinicDate, ClinicDateTime, WeeklyWindowSchema, WithAvailability, WholeNumber

_SOLVER = {"time_limit": fields.Float(
               load_default=None, validate=validate.Range(min=0.1, max=MAX_TIME_LIMIT),
               metadata={"description": f"seconds the optimizer may search (at most {MAX_TIME_LIMIT:g}; default 10)"}),
           "deterministic": fields.Boolean(
               load_default=False, metadata={"description": "the same problem always gives the same schedule"})}


class ReplanRequestSchema(WithAvailability):
    """What the front desk may change for this proposal only."""

    preferred_providers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)), values=WholeNumber(validate=RecordId),
        load_default=dict, metadata={"description": "{discipline: provider id}, over the care team's choices"})
    availability = fields.List(fields.Nested(WeeklyWindowSchema), validate=validate.Length(max=50), metadata={
        "description": "the patient's weekly windows for this proposal only (default: their recorded ones)"})
    time_limit = _SOLVER["time_limit"]
    deterministic = _SOLVER["deterministic"]


class ProposalRequestSchema(ReplanRequestSchema):
    start_date = ClinicDate(metadata={"description": "when care starts (plan week 0 is the week holding it); "
                                                      "default the plan's start date, or tomorrow if that is past"})


class HeldSlotSchema(Schema):
    patient_id = WholeNumber()
    provider_id = WholeNumber()
    provider_name = fields.String(attribute="provider.name")
    discipline = fields.String(attribute="discipline_code")
    kind = fields.String()
    phase = fields.String(attribute="phase_name", allow_none=True)
    week = WholeNumber(attribute="plan_week", allow_none=True)
    start = ClinicDateTime(attribute="starts_at")
    end = ClinicDateTime(attribute="ends_at")
    minutes = WholeNumber()
    action = fields.String(metadata={"enum": list(HOLD_ACTIONS),
                                     "description": "create a new appointment, or move `appointment_id` here"})
    appointment_id = WholeNumber(allow_none=True)
    previous_provider_id = WholeNumber(allow_none=True)
    previous_start = ClinicDateTime(attribute="previous_starts_at", allow_none=True)


class UnscheduledSchema(Schema):
    discipline = fields.String()
    kind = fields.String()
    phase = fields.String(allow_none=True)
    week = WholeNumber(allow_none=True)
    reason = fields.String()


class CancellationSchema(Schema):
    appointment_id = WholeNumber()
    reason = fields.String()


class RelabelSchema(Schema):
    appointment_id = fields.Integer()
    phase = fields.String()
    week = fields.Integer()


class ProposalSchema(Schema):
    id = WholeNumber()
    plan_id = WholeNumber()
    plan_version = WholeNumber()
    kind = fields.String(metadata={"enum": list(PROPOSAL_KINDS)})
    status = fields.Function(lambda p: p.state(utcnow()), metadata={
        "enum": list(PROPOSAL_STATES), "type": "string",
        "description": "live: its slots are held until expires_at; expired: they are not (booking still re-checks); "
                       "released: the front desk let it go, it no longer books"})
    created_by_id = WholeNumber(allow_none=True)
    created_at = ClinicDateTime()
    expires_at = ClinicDateTime(metadata={"description": "the holds stop counting at this time"})
    booked_at = ClinicDateTime(allow_none=True)
    parameters = fields.Dict()
    solver_status = fields.Function(lambda p: p.solution.get("status"), metadata={"type": "string"})
    metrics = fields.Dict()
    solve_seconds = fields.Float()
    appointments = fields.List(fields.Nested(HeldSlotSchema), attribute="holds",
                               metadata={"description": "the held slots: what booking creates or moves"})
    unscheduled = fields.List(fields.Nested(UnscheduledSchema))
    cancellations = fields.List(fields.Nested(CancellationSchema))
    relabels = fields.Function(lambda p: RelabelSchema(many=True).dump(p.relabels or []), metadata={
        "type": "array", "items": {"type": "object"},
        "description": "a re-plan's appointments that stay where they are and now answer this phase and plan "
                       "week (a phase changed length); booking changes only that"})
    booked_appointment_ids = fields.List(WholeNumber())


class BookingBodySchema(Schema):
    patient_id = WholeNumber()
    provider_id = WholeNumber()
    discipline = fields.String()
    start = ClinicDateTime()
    minutes = WholeNumber()
    kind = fields.String()
    plan_id = WholeNumber()
    phase = fields.String()
    week = WholeNumber()


class BackfillCandidateSchema(Schema):
    plan_id = WholeNumber()
    patient_id = WholeNumber()
    patient_name = fields.String()
    discipline = fields.String()
    phase = fields.String()
    week = WholeNumber()
    missing_that_week = WholeNumber()
    upcoming_sessions = WholeNumber()
    continuity = fields.Boolean(metadata={"description": "the freed slot's provider already treats this patient"})
    booking = fields.Nested(BookingBodySchema, metadata={"description": "POST it to /api/v1/appointments"})
