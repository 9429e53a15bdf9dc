"""The hooks booking calls: reminders at wall-clock offsets, re-timed on a move, withdrawn on a cancel."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from careplan.extensions import db
from careplan.reminders import service
from careplan.reminders.models import OutboundEmail
from tests import factories

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)


def emails(**where):
    query = select(OutboundEmail).order_by(OutboundEmail.id)
    for name, value in where.items():
        query = query.where(getattr(OutboundEmail, name) == value)
    return list(db.session.scalars(query))


def test_reminders_across_the_spring_change_follow_the_wall_clock(ctx):
    # 2027-03-14 02:00 the clocks spring forward: 10:00 on the 15th is 14:00 UTC, 10:00 on the 13th is 15:00 UTC.
    visit = factories.appointment(starts_at=datetime(2027, 3, 15, 10, 0, tzinfo=TORONTO))
    rows = service.schedule_reminders(visit, now=NOW)
    db.session.commit()
    due = {row.offset_hours: row.due_at for row in rows}
    assert due[48] == datetime(2027, 3, 13, 15, 0, tzinfo=timezone.utc)
    assert due[48].astimezone(TORONTO).strftime("%Y-%m-%d %H:%M") == "2027-03-13 10:00"
    assert visit.starts_at - due[48] == timedelta(hours=47)
    assert due[2] == datetime(2027, 3, 15, 12, 0, tzinfo=timezone.utc)


def test_offsets_already_past_are_not_queued_and_scheduling_twice_adds_nothing(ctx):
    visit = factories.appointment(starts_at=NOW + timedelta(hours=30))
    assert [r.offset_hours for r in service.schedule_reminders(visit, now=NOW)] == [2]
    assert service.schedule_reminders(visit, now=NOW) == []
    db.session.commit()
    assert len(emails(kind="reminder")) == 1


def test_opted_out_patients_get_no_reminders_but_do_get_the_cancellation(ctx):
    patient = factories.patient(reminder_opt_out=True)
    visit = factories.appointment(patient=patient, starts_at=NOW + timedelta(days=5))
    assert service.schedule_reminders(visit, now=NOW) == []
    service.cancel_reminders(visit, notify=True, now=NOW)
    db.session.commit()
    assert [r.kind for r in emails()] == ["cancellation"]


def test_a_move_withdraws_unsent_reminders_and_queues_new_ones_with_a_notice(ctx):
    visit = factories.appointment(starts_at=NOW + timedelta(days=5))
    old = service.schedule_reminders(visit, now=NOW)
    previous = visit.starts_at
    visit.starts_at += timedelta(days=2)
    visit.ends_at += timedelta(days=2)
    visit.sequence += 1
    new = service.retime_reminders(visit, now=NOW)
    service.queue_reschedule_notice(visit, previous_starts_at=previous, now=NOW)
    db.session.commit()
    assert {r.status for r in old} == {"cancelled"}
    assert [r.due_at - previous for r in new] == [timedelta(days=2) - timedelta(hours=48),
                                                 timedelta(days=2) - timedelta(hours=2)]
    notice = emails(kind="reschedule")[0]
    assert notice.payload["previous_starts_at"].startswith(previous.astimezone(timezone.utc).isoformat()[:16])


def test_a_cancel_withdraws_reminders_and_queues_one_notice(ctx):
    visit = factories.appointment(starts_at=NOW + timedelta(days=5))
    reminders = service.schedule_reminders(visit, now=NOW)
    notice = service.cancel_reminders(visit, notify=True, now=NOW)
    db.session.commit()
    assert {r.status for r in reminders} == {"cancelled"}
    assert notice.kind == "cancellation" and notice.status == "pending" and notice.due_at == NOW


def test_hooks_do_not_commit_the_booking_transaction(ctx):
    patient = factories.patient()
    visit = factories.appointment(patient=patient, starts_at=NOW + timedelta(days=5))
    service.schedule_reminders(visit, now=NOW)
    service.queue_booking_confirmation(patient, [visit], now=NOW)
    db.session.rollback()
    assert emails() == []


def test_a_booking_confirmation_lists_the_plan_in_time_order(ctx):
    patient = factories.patient()
    later = factories.appointment(patient=patient, starts_at=NOW + timedelta(days=9))
    sooner = factories.appointment(patient=patient, starts_at=NOW + timedelta(days=2))
    row = service.queue_booking_confirmation(patient, [later, sooner], now=NOW)
    db.session.commit()
    assert row.payload == {"appointment_ids": [sooner.id, later.id]}


def test_the_dispatch_command_sends_one_batch_and_refuses_a_time_without_offset(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_BATCH_SIZE", 1)
    for days in (5, 6):
        service.schedule_reminders(factories.appointment(starts_at=NOW + timedelta(days=days)), now=NOW)
    db.session.commit()
    db.session.remove()
    runner = app.test_cli_runner()
    naive = runner.invoke(args=["reminders", "dispatch", "--due-before", "2027-12-01T00:00:00"])
    assert naive.exit_code == 2 and "UTC offset" in naive.output
    once = runner.invoke(args=["reminders", "dispatch", "--once", "--due-before", "2027-12-01T00:00:00Z"])
    assert once.exit_code == 0 and once.stdout.startswith("1 sent,"), once.output
    rest = runner.invoke(args=["reminders", "dispatch", "--due-before", "2027-12-01T00:00:00+00:00"])
    assert rest.stdout.startswith("3 sent,")
    assert {r.status for r in emails()} == {"sent"}
