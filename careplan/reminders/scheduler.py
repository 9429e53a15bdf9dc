"""APScheduler only triggers the dispatcher; the database decides what is sent, so any number of
schedulers (web processes, workers, cron'd `reminders dispatch`) can run side by side."""
from __future__ import annotations

import logging
import os
import signal
import threading

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger(__name__)

_lock = threading.Lock()
_in_process: BackgroundScheduler | None = None
_in_process_runners = None


def _dispatch(app) -> None:
    from careplan.reminders.dispatch import dispatch_due

    with app.app_context():
        result = dispatch_due()
        if result.claimed:
            log.info("reminders: %s sent, %s retrying, %s failed", len(result.sent), len(result.retrying),
                     len(result.failed))


def _deliver_webhooks(app) -> None:
    from careplan.webhooks.delivery import deliver_due

    with app.app_context():
        result = deliver_due()
        if result.claimed:
            log.info("webhooks: %s delivered, %s retrying, %s failed", len(result.sent), len(result.retrying),
                     len(result.failed))


def _expire_proposals(app) -> None:
    from careplan.proposals.service import expire_proposals

    with app.app_context():
        expired = expire_proposals()
        if expired:
            log.info("proposals: %s expired, their holds released", expired)


def _add_job(scheduler, app) -> None:
    from datetime import datetime, timezone

    scheduler.add_job(_dispatch, "interval", args=[app], seconds=app.config["SCHEDULER_INTERVAL_SECONDS"],
                      id="dispatch-emails", max_instances=1, coalesce=True,
                      next_run_time=datetime.now(timezone.utc))
    # Webhooks go out the way e-mails do: the database decides what is due, leases keep each with one worker.
    scheduler.add_job(_deliver_webhooks, "interval", args=[app], seconds=app.config["SCHEDULER_INTERVAL_SECONDS"],
                      id="deliver-webhooks", max_instances=1, coalesce=True,
                      next_run_time=datetime.now(timezone.utc))
    # Holds stop counting at their expiry anyway (a query condition); this only records the status.
    scheduler.add_job(_expire_proposals, "interval", args=[app], seconds=60, id="expire-proposals",
                      max_instances=1, coalesce=True)


def start_when_serving(app) -> BackgroundScheduler | None:
    """The in-process scheduler of `make run`: one per process, only in a process that serves requests.

    Flask CLI commands (`reminders dispatch`, `worker`, `db upgrade`) load the app inside a click context
    and must not start it; `flask run` does serve, but under the reloader only its child process does.
    """
    global _in_process, _in_process_runners
    context = click.get_current_context(silent=True)
    if context is not None and context.info_name != "run":
        return None
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    with _lock:
        if _in_process is None:
            _in_process = BackgroundScheduler(timezone="UTC", daemon=True)
            _add_job(_in_process, app)
            _in_process.start()
            # Solve jobs run beside it, in this process: `make run` needs no worker.
            from careplan.jobs.runner import start_runners

            _in_process_runners = start_runners(app)
    return _in_process


def run_worker(app) -> None:
    """Block, dispatching every SCHEDULER_INTERVAL_SECONDS and running solve jobs (JOBS_PER_PROCESS at once),
    until SIGTERM or SIGINT; the batch under way finishes first so nothing it sent is left unmarked, and so
    do the solves under way (each within its time limit)."""
    from careplan.jobs.runner import start_runners

    scheduler = BlockingScheduler(timezone="UTC")
    _add_job(scheduler, app)
    runners = start_runners(app)

    def stop(signum, _frame):
        log.info("worker: signal %s, stopping", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        scheduler.start()
    finally:
        if runners is not None:
            runners.stop(timeout=float(app.config["PROPOSAL_MAX_SECONDS"]) + 5)
