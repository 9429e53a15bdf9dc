"""Booking a proposal costs a fixed number of SQL statements plus at most two per appointment (issue 19):
the checks, the overlaps, the rooms, the rows, their audit, reminders and webhook deliveries are each read or
written once for all the proposal's appointments."""
from __future__ import annotations

from datetime import date

from sqlalchemy import event, func, select

from careplan.audit.models import AuditEvent
from careplan.extensions import db
from careplan.proposals import service
from careplan.reminders.models import OutboundEmail
from careplan.scheduling.models import Appointment
from careplan.webhooks import service as webhooks
from careplan.webhooks.models import WebhookDelivery
from tests import factories

# Time enough on a loaded machine for the solver to place every session (it stops once it has the best).
SOLVE = {"time_limit": 10.0, "deterministic": True}
MONDAY = date(2027, 3, 1)
# What booking costs whatever the proposal's size (the plan, the proposal, the checks' reads, one INSERT each
# of appointments, audit rows, reminders and deliveries, the plan's version).
CONSTANT = 60


def _booked_with_statements(weeks: int) -> tuple[int, int, int]:
    """(appointments booked, statements sent, proposal id) for a draft plan of `weeks` weeks of physiotherapy
    and massage twice a week each, the clinic's rooms and webhook endpoints as they are."""
    physio = factories.provider(hours="mon-fri 08:00-18:00")
    masseur = factories.provider(disciplines=("massage",), hours="mon-fri 08:00-18:00")
    patient = factories.patient(hours="mon-fri 08:00-18:00")
    plan = factories.care_plan(patient, {"physiotherapy": physio, "massage": masseur}, start=MONDAY,
                               status="draft", phases=(("acute", weeks, "Calm it", [("physiotherapy", 2, 1, 45),
                                                                                      ("massage", 2, 1, 45)]),))
    proposal = service.propose(plan.id, dict(SOLVE), caller=factories.CALLER)
    assert len(proposal.holds) == 4 * weeks, proposal.unscheduled
    proposal_id = proposal.id
    db.session.remove()
    seen = []

    def count(*_):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        booked = service.book_proposal(proposal_id, caller=factories.CALLER)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(booked.booked_appointment_ids), len(seen), proposal_id


def test_booking_a_proposal_costs_a_constant_plus_at_most_two_statements_per_appointment(ctx):
    webhooks.create_endpoint({"url": "http://127.0.0.1:9/hook", "events": ["appointment.booked"]},
                             caller=factories.CALLER)
    factories.needs_room("massage")
    factories.room(factories.location().id)
    few, few_statements, _ = _booked_with_statements(1)
    many, many_statements, proposal_id = _booked_with_statements(6)
    assert (few, many) == (4, 24)
    assert few_statements <= CONSTANT + 2 * few
    assert many_statements <= CONSTANT + 2 * many
    # Twenty more appointments cost no more than forty more statements (today: none more).
    assert many_statements - few_statements <= 2 * (many - few)
    # And everything a booking writes is there, for each appointment.
    ids = db.session.get(service.Proposal, proposal_id).booked_appointment_ids
    rows = list(db.session.scalars(select(Appointment).where(Appointment.id.in_(ids))))
    assert len(rows) == 24
    assert all((r.room_id is not None) == (r.discipline_code == "massage") for r in rows)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.resource == "appointment", AuditEvent.action == "create",
        AuditEvent.resource_id.in_([str(i) for i in ids]))) == 24
    assert db.session.scalar(select(func.count()).select_from(OutboundEmail).where(
        OutboundEmail.kind == "reminder", OutboundEmail.appointment_id.in_(ids))) == 48
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.event_type == "appointment.booked")) == 28
