"""APScheduler only triggers the dispatcher: the worker command, and the in-process scheduler of `make run`."""
import signal
import subprocess
import sys
import time
from datetime import timedelta

import click

from careplan import create_app
from careplan.db import utcnow
from careplan.extensions import db
from careplan.reminders import scheduler, service
from tests import factories
from tests.reminders.test_dispatch import REPOSITORY, subprocess_env


def test_the_worker_dispatches_and_stops_cleanly_on_sigterm(app, ctx, smtp):
    patient = factories.patient()
    visit = factories.appointment(patient=patient, starts_at=utcnow() + timedelta(days=4))
    service.queue_booking_confirmation(patient, [visit])
    db.session.commit()
    db.session.remove()
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=REPOSITORY,
                              env=subprocess_env(app, smtp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not smtp.inbox.messages and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert [m["X-Careplan-Kind"] for m in smtp.inbox.messages] == ["booking-confirmation"]
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert "worker: stopped." in out


def test_one_in_process_scheduler_per_process_and_none_in_cli_commands(app, monkeypatch):
    monkeypatch.setattr(scheduler, "_in_process", None)
    monkeypatch.setattr(scheduler, "_in_process_runners", None)
    served = create_app("development", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                        "LOG_TO_STDERR": False},
                        instance_path=app.instance_path)
    running = scheduler._in_process
    try:
        assert running is not None and running.running
        assert scheduler.start_when_serving(served) is running
        assert sorted(job.id for job in running.get_jobs()) == ["deliver-webhooks", "dispatch-emails", "expire-proposals"]
        assert scheduler._in_process_runners is not None, "solve jobs run beside the scheduler"
    finally:
        running.shutdown(wait=True)
        # Left running, its job runners would claim the jobs of every later test in this database.
        if scheduler._in_process_runners is not None:
            scheduler._in_process_runners.stop(timeout=10)
    monkeypatch.setattr(scheduler, "_in_process", None)
    # `flask --app wsgi reminders dispatch` builds the app inside the click context of its command group.
    with click.Context(click.Group("cli"), info_name="cli"):
        create_app("development", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                        "LOG_TO_STDERR": False},
                   instance_path=app.instance_path)
    assert scheduler._in_process is None
