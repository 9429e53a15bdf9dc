"""Prometheus metrics at `/metrics`: what an operator watches.

Request counts and latencies, and solve durations, are counted in the process that served them
(prometheus-client); under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory
shared by the workers (config/gunicorn.conf.py clears a dead worker's files) and every scrape adds them all up.
The queues (e-mails, webhooks) and the proposals' holds live in the database, so they are read from it at each
scrape: any process answers them the same, whichever worker the scrape reaches.

`/metrics` answers an admin's token or session, or METRICS_TOKEN (a scraper's own secret, when set); anyone
else gets 401.
"""
from __future__ import annotations

import hmac
import os
import time
from datetime import timedelta

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REQUESTS = Counter("careplan_http_requests", "HTTP requests answered, by route and status",
                   ["method", "route", "status"])
LATENCY = Histogram("careplan_http_request_duration_seconds", "Time to answer a request, by route",
                    ["method", "route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
SOLVES = Histogram("careplan_solve_duration_seconds", "Optimizer runs for proposals and re-plans, by outcome",
                   ["outcome"], buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60))
# Holds ending within this long are "expiring": the front desk should book or let them go.
EXPIRING_WITHIN = timedelta(minutes=10)

bp = Blueprint("metrics", __name__)


def observe_solve(seconds: float, outcome: str) -> None:
    SOLVES.labels(outcome=outcome).observe(seconds)


def _observe_request(response):
    started = g.get("request_started")
    if started is not None and request.endpoint != "metrics.metrics":
        route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        REQUESTS.labels(method=request.method, route=route, status=str(response.status_code)).inc()
        LATENCY.labels(method=request.method, route=route).observe(time.perf_counter() - started)
    return response


class QueueCollector:
    """Read at scrape time from the database: the e-mail and webhook queues, and the proposals' holds."""

    def collect(self):
        from sqlalchemy import func, select

        from careplan.db import utcnow
        from careplan.extensions import db
        from careplan.proposals.models import HeldSlot, Proposal
        from careplan.reminders.models import OutboundEmail

        now = utcnow()
        yield from _queue("careplan_emails", "E-mails", OutboundEmail, now)
        try:
            from careplan.webhooks.models import WebhookDelivery
        except ImportError:
            pass
        else:
            yield from _queue("careplan_webhook_deliveries", "Webhook deliveries", WebhookDelivery, now)

        live = (Proposal.status == "live") & (Proposal.released_at.is_(None)) & (Proposal.expires_at > now)
        holding = db.session.scalar(select(func.count()).select_from(Proposal).where(live))
        held = db.session.scalar(select(func.count()).select_from(HeldSlot).join(Proposal).where(live))
        expiring = db.session.scalar(select(func.count()).select_from(Proposal).where(
            live, Proposal.expires_at <= now + EXPIRING_WITHIN))
        db.session.commit()
        yield GaugeMetricFamily("careplan_proposals_holding", "Live proposals whose slots are held", holding)
        yield GaugeMetricFamily("careplan_held_slots", "Slots held by live proposals", held)
        yield GaugeMetricFamily("careplan_proposals_expiring", "Live proposals whose holds end within "
                                f"{int(EXPIRING_WITHIN.total_seconds() // 60)} minutes", expiring)


def _queue(name: str, what: str, model, now):
    """Depth by status, how many are due now, and how long the oldest due one has waited."""
    from sqlalchemy import func, select

    from careplan.extensions import db

    by_status = dict(db.session.execute(select(model.status, func.count()).group_by(model.status)).all())
    due = (model.status == "pending") & (model.due_at <= now)
    waiting, oldest = db.session.execute(select(func.count(), func.min(model.due_at)).where(due)).one()
    db.session.commit()
    depth = GaugeMetricFamily(f"{name}", f"{what} in the queue, by status", labels=["status"])
    for status in ("pending", "sent", "failed", "cancelled"):
        depth.add_metric([status], by_status.get(status, 0))
    yield depth
    yield GaugeMetricFamily(f"{name}_due", f"{what} due and not yet sent", waiting)
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    yield GaugeMetricFamily(f"{name}_oldest_due_seconds", f"How long the oldest due one of the {what.lower()} "
                            "has waited", max(age, 0.0))


def _allowed() -> bool:
    from careplan.auth.edge import current_user

    expected = current_app.config.get("METRICS_TOKEN")
    offered = request.headers.get("Authorization", "")
    if expected and hmac.compare_digest(offered.encode(), f"Bearer {expected}".encode()):
        return True
    user = current_user()
    return user is not None and user.role == "admin"


@bp.get("/metrics")
def metrics():
    from careplan.errors import Unauthenticated

    if not _allowed():
        raise Unauthenticated("Metrics need an admin's token or the METRICS_TOKEN.")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    from_database = CollectorRegistry(auto_describe=False)
    from_database.register(QueueCollector())
    return Response(generate_latest(counted) + generate_latest(from_database), content_type=CONTENT_TYPE_LATEST)


def register(app) -> None:
    app.register_blueprint(bp)
    app.after_request(_observe_request)
