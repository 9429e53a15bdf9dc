"""The dispatch command counts what it will send: a reminder held for an appointment flagged for the front desk
is not due (it waits for the desk's move), so "Sending N due e-mails" and the result line agree."""
from __future__ import annotations

from sqlalchemy import select

from careplan.extensions import db
from careplan.reminders import dispatch
from careplan.scheduling.models import Appointment
from tests.reminders.test_dispatch import AFTER_ALL, booked


def test_reminders_held_for_a_flagged_appointment_are_not_counted_as_due(app, ctx):
    booked(2)
    first = db.session.scalars(select(Appointment).order_by(Appointment.starts_at)).first()
    first.flag_reason = "outside Ana Moreau's working hours"
    db.session.commit()
    assert dispatch.count_due(due_before=AFTER_ALL) == 2
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["reminders", "dispatch", "--due-before", AFTER_ALL.isoformat()])
    assert result.exit_code == 0, result.output
    # It said "Sending 4 due e-mails", then "2 sent, 0 to retry, 0 failed, 0 withdrawn."
    assert "Sending 2 due e-mails" in result.stderr
    assert result.stdout == "2 sent, 0 to retry, 0 failed, 0 withdrawn.\n"
