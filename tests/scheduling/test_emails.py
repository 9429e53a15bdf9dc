"""Single appointments queue their e-mails in their own transaction: booked, moved, cancelled."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from careplan.errors import Conflict
from careplan.extensions import db
from careplan.reminders.models import OutboundEmail
from careplan.scheduling import service
from tests import factories

START = datetime(2027, 3, 2, 15, 0, tzinfo=timezone.utc)


def _emails(appointment_id=None, **where):
    query = select(OutboundEmail).order_by(OutboundEmail.id)
    if appointment_id is not None:
        query = query.where(OutboundEmail.appointment_id == appointment_id)
    for name, value in where.items():
        query = query.where(getattr(OutboundEmail, name) == value)
    return list(db.session.scalars(query))


def _book(patient, provider, start=START):
    return service.book_appointment({"patient_id": patient.id, "provider_id": provider.id,
                                     "discipline": "physiotherapy", "start": start, "minutes": 45}, caller=factories.CALLER)


def test_a_booking_queues_its_reminders_and_a_confirmation(ctx):
    patient, provider = factories.patient(), factories.provider()
    appointment = _book(patient, provider)
    reminders = _emails(appointment.id, kind="reminder")
    assert sorted(r.offset_hours for r in reminders) == [2, 48]
    assert {r.status for r in reminders} == {"pending"}
    [confirmation] = _emails(kind="booking-confirmation", patient_id=patient.id)
    assert confirmation.payload == {"appointment_ids": [appointment.id]}


def test_a_refused_booking_queues_nothing(ctx):
    patient, provider = factories.patient(), factories.provider()
    _book(patient, provider)
    before = len(_emails())
    with pytest.raises(Conflict):
        _book(factories.patient(), provider)
    assert len(_emails()) == before


def test_a_cancellation_withdraws_the_reminders_and_tells_the_patient(ctx):
    patient, provider = factories.patient(), factories.provider()
    appointment = _book(patient, provider)
    factories.confirmations_sent()
    service.update_appointment(appointment.id, {"status": "cancelled", "reason": "flu"}, caller=factories.CALLER)
    assert {r.status for r in _emails(appointment.id, kind="reminder")} == {"cancelled"}
    [notice] = _emails(appointment.id, kind="cancellation")
    assert notice.status == "pending"


def test_a_booking_cancelled_before_its_confirmation_went_out_sends_neither(ctx):
    """Found in use: a video visit booked and cancelled within the minute got a confirmation, composed after the
    cancellation and so without its link, and a cancellation, in the same minute."""
    patient, provider = factories.patient(), factories.provider()
    first = _book(patient, provider)
    second = _book(patient, provider, START + timedelta(days=1))
    service.update_appointment(first.id, {"status": "cancelled"}, caller=factories.CALLER)
    [confirmation] = [e for e in _emails(kind="booking-confirmation") if first.id in e.payload["appointment_ids"]
                      or e.payload["appointment_ids"] == []]
    assert (confirmation.status, confirmation.payload["appointment_ids"]) == ("cancelled", [])
    assert _emails(first.id, kind="cancellation") == []
    # A confirmation a dispatcher has claimed may be going out: the cancellation is then sent as before.
    pending = next(e for e in _emails(kind="booking-confirmation") if e.payload["appointment_ids"] == [second.id])
    pending.lease_owner = "a dispatcher"
    db.session.commit()
    service.update_appointment(second.id, {"status": "cancelled"}, caller=factories.CALLER)
    assert [n.status for n in _emails(second.id, kind="cancellation")] == ["pending"]
    assert pending.payload["appointment_ids"] == [second.id]


def test_a_move_retimes_the_reminders_and_sends_a_reschedule_notice(ctx):
    patient, provider = factories.patient(), factories.provider()
    appointment = _book(patient, provider)
    later = START + timedelta(days=1)
    service.update_appointment(appointment.id, {"start": later}, caller=factories.CALLER)
    reminders = _emails(appointment.id, kind="reminder")
    assert sorted((r.status, r.offset_hours) for r in reminders) == [
        ("cancelled", 2), ("cancelled", 48), ("pending", 2), ("pending", 48)]
    assert {r.due_at for r in reminders if r.status == "pending"} == {later - timedelta(hours=2),
                                                                      later - timedelta(hours=48)}
    [notice] = _emails(appointment.id, kind="reschedule")
    assert notice.payload["previous_starts_at"].startswith("2027-03-02T15:00")

