"""The dispatcher against a real SMTP server on loopback: exactly once, retries, failures, crashes."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from careplan.db import utcnow
from careplan.extensions import db
from careplan.reminders import dispatch, service
from careplan.reminders.models import OutboundEmail
from careplan.scheduling.models import Appointment
from tests import factories
from tests.conftest import ON_POSTGRES

REPOSITORY = Path(__file__).resolve().parents[2]
TORONTO = ZoneInfo("America/Toronto")
AFTER_ALL = datetime(2028, 1, 1, tzinfo=timezone.utc)


def booked(count: int, *, start: datetime | None = None) -> list[int]:
    """`count` appointments a day apart with their reminders; the reminder ids."""
    start = start or datetime(2027, 2, 1, 14, 0, tzinfo=timezone.utc)
    provider = factories.provider()
    ids = []
    for n in range(count):
        visit = factories.appointment(provider=provider, starts_at=start + timedelta(days=n))
        ids += [r.id for r in service.schedule_reminders(visit)]
    db.session.commit()
    return ids


def statuses() -> Counter:
    db.session.expire_all()
    return Counter(db.session.scalars(select(OutboundEmail.status)))


def clock(moment: datetime):
    return lambda: moment


def subprocess_env(app, smtp=None, **extra) -> dict:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "CAREPLAN_ENV": "testing", **extra}
    if smtp is not None:
        env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port))
    return env


def test_four_dispatcher_processes_send_each_reminder_exactly_once(app, ctx, smtp):
    reminders = booked(30)
    db.session.remove()
    smtp.inbox.delay = 0.01
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "reminders", "dispatch",
               "--due-before", AFTER_ALL.isoformat()]
    env = subprocess_env(app, smtp, REMINDER_BATCH_SIZE="4")
    workers = [subprocess.Popen(command, cwd=REPOSITORY, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(4)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], outputs
    sent_by_worker = [int(out.strip().splitlines()[-1].split()[0]) for out, _ in outputs]
    print(f"backend={'postgresql' if ON_POSTGRES else 'sqlite'} sent per process: {sent_by_worker}")
    assert sum(sent_by_worker) == len(reminders) == 60
    ids = smtp.inbox.message_ids()
    assert len(ids) == len(set(ids)) == 60
    assert set(ids) == {f"<careplan-email-{i}@localhost>" for i in reminders}
    assert statuses() == {"sent": 60}


def test_smtp_down_then_up_every_reminder_arrives_once(app, ctx, smtp):
    reminders = booked(3)
    smtp.down()
    t0 = datetime(2027, 1, 1, tzinfo=timezone.utc)
    first = dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(t0))
    assert sorted(first.retrying) == sorted(reminders) and first.sent == []
    rows = db.session.scalars(select(OutboundEmail)).all()
    assert {(r.attempts, r.next_attempt_at) for r in rows} == {(1, t0 + timedelta(seconds=60))}
    assert all("Connection" in r.last_error for r in rows)
    smtp.up()
    assert dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(t0 + timedelta(seconds=30))).claimed == 0
    smtp.inbox.answer = "451 4.3.0 try again later"
    assert len(dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(t0 + timedelta(seconds=61))).retrying) == 6
    smtp.inbox.answer = None
    # The second retry waits twice as long as the first.
    assert dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(t0 + timedelta(seconds=61 + 119))).claimed == 0
    later = dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(t0 + timedelta(seconds=61 + 121)))
    assert len(later.sent) == 6
    assert Counter(smtp.inbox.message_ids()) == Counter({f"<careplan-email-{i}@localhost>": 1 for i in reminders})
    assert statuses() == {"sent": 6}


def test_a_550_is_recorded_as_failed_after_the_retries_and_the_booking_stays(app, smtp, auth, client):
    smtp.inbox.answer = "550 5.1.1 mailbox unavailable"
    t0 = datetime(2027, 1, 31, 15, 0, tzinfo=timezone.utc)
    with app.app_context():
        reminder_ids = booked(1)
        first = dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(t0))
        assert sorted(first.retrying) == reminder_ids
        second = dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(t0 + timedelta(minutes=2)))
        assert sorted(second.failed) == reminder_ids
        rows = db.session.scalars(select(OutboundEmail)).all()
        assert {(r.status, r.attempts) for r in rows} == {("failed", app.config["MAIL_PERMANENT_ATTEMPTS"])}
        assert all("550" in r.last_error for r in rows)
        assert db.session.scalars(select(Appointment.status)).all() == ["booked"]
        assert smtp.inbox.messages == []

    front_desk = auth("front_desk")
    listed = client.get("/api/v1/reminders?status=failed", headers=front_desk)
    assert listed.status_code == 200
    assert {(e["id"], e["kind"], e["status"]) for e in listed.get_json()} == {
        (i, "reminder", "failed") for i in reminder_ids}
    assert "550" in listed.get_json()[0]["last_error"]
    assert client.get("/api/v1/reminders?status=failed", headers=auth("provider")).status_code == 403
    assert client.get("/api/v1/reminders?status=failed").status_code == 401

    smtp.inbox.answer = None
    retried = client.post(f"/api/v1/reminders/{reminder_ids[0]}/retry", headers=front_desk)
    assert retried.status_code == 200 and retried.get_json()["status"] == "pending"
    assert client.post(f"/api/v1/reminders/{reminder_ids[0]}/retry", headers=front_desk).status_code == 409
    with app.app_context():
        resent = dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(t0 + timedelta(minutes=3)))
    assert resent.sent == [reminder_ids[0]]


CLAIM_THEN_DIE = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime
    from careplan import create_app
    from careplan.db import utcnow
    from careplan.reminders.dispatch import claim
    app = create_app("testing")
    with app.app_context():
        ids = claim("doomed-worker", now=utcnow(), due_before=datetime.fromisoformat(sys.argv[1]), limit=100)
        print(len(ids), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_dispatcher_killed_mid_batch_has_its_reminders_sent_once_its_lease_ends(app, ctx, smtp):
    reminders = booked(2)
    db.session.remove()
    doomed = subprocess.run([sys.executable, "-c", CLAIM_THEN_DIE, AFTER_ALL.isoformat()], cwd=REPOSITORY,
                            env=subprocess_env(app), capture_output=True, text=True, timeout=60)
    assert doomed.returncode == -9 and doomed.stdout.strip() == "4", doomed.stderr
    leased = db.session.scalars(select(OutboundEmail)).all()
    assert {r.lease_owner for r in leased} == {"doomed-worker"}
    expiry = leased[0].lease_expires_at

    assert dispatch.dispatch_due(due_before=AFTER_ALL).claimed == 0
    taken_over = dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(expiry + timedelta(seconds=1)))
    assert sorted(taken_over.sent) == sorted(reminders)
    assert sorted(smtp.inbox.message_ids()) == sorted(f"<careplan-email-{i}@localhost>" for i in reminders)
    assert {r.attempts for r in db.session.scalars(select(OutboundEmail))} == {2}


def test_a_crash_between_sending_and_marking_resends_with_the_same_message_id(app, ctx, smtp, monkeypatch):
    first, second = booked(1)
    t0 = datetime(2027, 1, 31, 15, 0, tzinfo=timezone.utc)

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(dispatch, "_mark_sent", crash)
    # PostgreSQL marks an e-mail sent in the statement that checks the next one.
    monkeypatch.setattr(dispatch, "_mark_sent_and_check", crash)
    try:
        dispatch.dispatch_batch(now=t0, due_before=AFTER_ALL)
    except KeyboardInterrupt:
        db.session.rollback()
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp.port)
    lease = timedelta(seconds=app.config["REMINDER_LEASE_SECONDS"] + 1)
    dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(t0 + lease))
    # The first was sent, then the process died before marking it: it goes again, under the same Message-ID,
    # so the receiving side can tell it is the same e-mail.
    assert Counter(smtp.inbox.message_ids()) == {f"<careplan-email-{first}@localhost>": 2,
                                                 f"<careplan-email-{second}@localhost>": 1}
    assert statuses() == {"sent": 2}


def test_the_dst_reminder_goes_out_48_wall_clock_hours_before(app, ctx, smtp):
    visit = factories.appointment(starts_at=datetime(2027, 3, 15, 10, 0, tzinfo=TORONTO))
    service.schedule_reminders(visit, now=datetime(2027, 3, 1, tzinfo=timezone.utc))
    db.session.commit()
    just_before = datetime(2027, 3, 13, 14, 59, 59, tzinfo=timezone.utc)
    assert dispatch.dispatch_due(now=clock(just_before)).claimed == 0
    at_ten_local = datetime(2027, 3, 13, 10, 0, tzinfo=TORONTO)
    result = dispatch.dispatch_due(now=clock(at_ten_local))
    assert len(result.sent) == 1
    row = db.session.get(OutboundEmail, result.sent[0])
    assert row.offset_hours == 48 and visit.starts_at - row.sent_at == timedelta(hours=47)
    assert "Monday 15 March 2027 at 10:00 (EDT)" in smtp.inbox.messages[0].get_body(("plain",)).get_content()


def test_withdrawn_reminders_are_not_sent(app, ctx, smtp):
    reminders = booked(1)
    visit = db.session.scalars(select(Appointment)).one()
    visit.status = "cancelled"
    db.session.commit()
    result = dispatch.dispatch_due(due_before=AFTER_ALL)
    assert sorted(result.withdrawn) == sorted(reminders) and smtp.inbox.messages == []


def test_without_mail_server_the_emails_go_to_the_outbox(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    patient = factories.patient()
    visit = factories.appointment(patient=patient, starts_at=utcnow() + timedelta(days=3))
    row = service.queue_booking_confirmation(patient, [visit])
    db.session.commit()
    assert dispatch.dispatch_due().sent == [row.id]
    files = list((Path(app.instance_path) / "outbox").glob(f"{row.id:09d}-*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes(), policy=default)
    assert message["X-Careplan-Kind"] == "booking-confirmation"
    assert message["To"].addresses[0].addr_spec == patient.email


def test_an_email_withdrawn_after_its_batch_was_composed_is_not_sent(app, ctx, smtp, monkeypatch):
    first, second = booked(1)
    compose = dispatch._prepare

    def compose_then_cancel(*args):
        prepared = compose(*args)
        visit = db.session.scalars(select(Appointment)).one()
        service.cancel_reminders(visit, notify=False)
        db.session.commit()
        return prepared

    monkeypatch.setattr(dispatch, "_prepare", compose_then_cancel)
    result = dispatch.dispatch_due(due_before=AFTER_ALL, now=clock(datetime(2027, 1, 1, tzinfo=timezone.utc)))
    assert sorted(result.withdrawn) == [first, second] and smtp.inbox.messages == []


def test_a_long_dispatch_tells_its_counts_batch_by_batch(app, ctx, monkeypatch):
    reminders = booked(5)
    monkeypatch.setitem(app.config, "REMINDER_BATCH_SIZE", 4)
    assert dispatch.count_due(due_before=AFTER_ALL) == len(reminders) == 10
    told = []
    dispatch.dispatch_due(due_before=AFTER_ALL,
                          on_batch=lambda batch, total: told.append((batch.claimed, len(total.sent))))
    assert told == [(4, 4), (4, 8), (2, 10)]


def test_the_dispatch_command_shows_what_is_due_and_what_went(app, ctx):
    booked(2)
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["reminders", "dispatch", "--due-before", AFTER_ALL.isoformat()])
    assert result.exit_code == 0, result.output
    assert "Sending 4 due e-mails" in result.stderr
    assert result.stdout == "4 sent, 0 to retry, 0 failed, 0 withdrawn.\n"


def test_a_batch_slower_than_its_lease_sends_no_more_of_it(app, ctx, smtp, monkeypatch):
    """Once a batch's lease has run out another dispatcher may have claimed its e-mails: the batch sends none
    of them after that (each check renews the lease only while it still runs), and the next dispatcher sends
    them, each once."""
    first, second = booked(1)
    t0 = datetime(2027, 1, 31, 15, 0, tzinfo=timezone.utc)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp.port)
    lease = app.config["REMINDER_LEASE_SECONDS"]
    # The batch's clock: its first e-mail goes at once, then a slow mail server takes longer than the lease.
    ticks = iter([0.0, 0.0])
    monkeypatch.setattr(dispatch, "monotonic", lambda: next(ticks, lease + 1.0))
    slow = dispatch.dispatch_batch(now=t0, due_before=AFTER_ALL)
    monkeypatch.undo()
    assert (slow.sent, slow.withdrawn) == ([first], [second])
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp.port)
    later = dispatch.dispatch_batch(now=t0 + timedelta(seconds=lease + 2), due_before=AFTER_ALL)
    assert later.sent == [second]
    assert Counter(smtp.inbox.message_ids()) == {f"<careplan-email-{first}@localhost>": 1,
                                                 f"<careplan-email-{second}@localhost>": 1}
    assert statuses() == {"sent": 2}
