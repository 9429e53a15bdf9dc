"""`reminders dispatch` and `worker` of the service contract."""
from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

reminders_cli = AppGroup("reminders", help="Reminder and notice e-mails.")


def _instant(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("must be ISO 8601, e.g. 2027-03-13T15:00:00+00:00") from None
    if moment.tzinfo is None:
        raise click.BadParameter("must carry a UTC offset, e.g. 2027-03-13T15:00:00+00:00")
    return moment


@reminders_cli.command("dispatch")
@click.option("--once", is_flag=True, help="Send one batch and stop.")
@click.option("--due-before", callback=_instant, metavar="ISO8601",
              help="Send what is due before this instant instead of now.")
def dispatch(once: bool, due_before: datetime | None):
    """Send the e-mails that are due; safe to run in several processes at once."""
    from careplan.reminders.dispatch import count_due, dispatch_due

    def so_far(total) -> str | None:
        return total and f"{len(total.sent)} sent, {len(total.retrying)} to retry, {len(total.failed)} failed"

    due = count_due(due_before=due_before)
    # On stderr: stdout keeps the one result line that scripts read.
    with click.progressbar(length=due, label=f"Sending {due} due e-mails", show_pos=True,
                           item_show_func=so_far, file=click.get_text_stream("stderr")) as bar:
        # Claimed, not sent: withdrawn and retried ones move the bar too. A bar past its length means
        # e-mails fell due while it ran.
        result = dispatch_due(once=once, due_before=due_before,
                              on_batch=lambda batch, total: bar.update(batch.claimed, total))
    click.echo(f"{len(result.sent)} sent, {len(result.retrying)} to retry, {len(result.failed)} failed, "
               f"{len(result.withdrawn)} withdrawn.")


@click.command("webhooks-dispatch")
def webhooks_dispatch():
    """Deliver the webhook deliveries that are due; safe to run in several processes at once."""
    from careplan.webhooks.delivery import deliver_due

    result = deliver_due()
    click.echo(f"{len(result.sent)} delivered, {len(result.retrying)} to retry, {len(result.failed)} failed.")


@click.command("worker")
def worker():
    """Run the scheduler that dispatches e-mails until stopped (SIGTERM or Ctrl-C)."""
    from careplan.reminders.scheduler import run_worker

    click.echo(f"worker: dispatching every {current_app.config['SCHEDULER_INTERVAL_SECONDS']} s; Ctrl-C stops.")
    run_worker(current_app._get_current_object())
    click.echo("worker: stopped.")
