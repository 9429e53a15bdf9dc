"""The webhook dispatcher: claim due deliveries under a lease, POST them outside any transaction, record what
the receiver answered. The same claim-and-lease as the e-mails (careplan.reminders.dispatch): several workers
take disjoint rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, queued BEGIN IMMEDIATE on SQLite), and a worker
that dies holding a claim has its deliveries taken over by another once the lease runs out.

Anything but a 2xx is retried, waiting WEBHOOK_RETRY_SECONDS doubled each time (at most
WEBHOOK_RETRY_MAX_SECONDS), until WEBHOOK_MAX_ATTEMPTS; then the delivery is failed, for an admin to resend.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import monotonic

from flask import current_app
from sqlalchemy import bindparam, or_, select, update

from careplan.db import utcnow
from careplan.extensions import db
from careplan.caller import worker_name
from careplan.webhooks.models import WebhookDelivery, WebhookEndpoint
from careplan.webhooks.service import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)


@dataclass
class DeliveryResult:
    claimed: int = 0
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    # Claimed, then not posted: the lease ran out first (another worker may hold it now), or it went away.
    withdrawn: list[int] = field(default_factory=list)


def claim(owner: str, *, now: datetime, limit: int) -> list[int]:
    lease = timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
    ids = list(db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.due_at <= now,
               or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
               or_(WebhookDelivery.lease_expires_at.is_(None), WebhookDelivery.lease_expires_at <= now))
        .order_by(WebhookDelivery.due_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)))
    if ids:
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(
            lease_owner=owner, lease_expires_at=now + lease, attempts=WebhookDelivery.attempts + 1))
    db.session.commit()
    return ids


def body_of(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int | None, str]:
    """(the receiver's status, or None when it could not be reached; what went wrong, if anything)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as answered:
        return answered.code, f"HTTP {answered.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"


def _record(delivery_id: int, owner: str, status: int | None, error: str, now: datetime,
            result: DeliveryResult) -> None:
    config = current_app.config
    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None or row.lease_owner != owner or row.status != "pending":
        # Lost to another worker after a slow batch, or withdrawn meanwhile.
        db.session.commit()
        return
    row.lease_owner = row.lease_expires_at = None
    row.last_status_code = status
    if status is not None and 200 <= status < 300:
        row.status, row.delivered_at, row.last_error, row.next_attempt_at = "sent", now, "", None
        result.sent.append(delivery_id)
    else:
        row.last_error = f"attempt {row.attempts}: {error}"[:1000]
        if row.attempts >= config["WEBHOOK_MAX_ATTEMPTS"]:
            row.status, row.next_attempt_at = "failed", None
            result.failed.append(delivery_id)
            log.warning("webhook delivery %s failed for good after %s attempts: %s", delivery_id, row.attempts,
                        error)
        else:
            wait = min(config["WEBHOOK_RETRY_SECONDS"] * 2 ** (row.attempts - 1), config["WEBHOOK_RETRY_MAX_SECONDS"])
            row.next_attempt_at = now + timedelta(seconds=wait)
            result.retrying.append(delivery_id)
    db.session.commit()


def deliver_batch(*, owner: str | None = None, now: datetime | None = None) -> DeliveryResult:
    owner = owner or worker_name()
    now = now or utcnow()
    result = DeliveryResult()
    ids = claim(owner, now=now, limit=current_app.config["WEBHOOK_BATCH_SIZE"])
    result.claimed = len(ids)
    if not ids:
        return result
    # Read in one transaction so that posting needs no database.
    prepared = [(d.id, d.endpoint.url, d.endpoint.secret, d.event_type, d.event_id, body_of(d.payload))
                for d in db.session.scalars(select(WebhookDelivery).join(WebhookEndpoint).where(
                    WebhookDelivery.id.in_(ids), WebhookDelivery.lease_owner == owner))]
    db.session.commit()
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    # The leases were written on the batch's clock (`now`, which a test may set): it runs on from there.
    began = monotonic()
    for delivery_id, url, secret, event_type, event_id, body in prepared:
        if not _still_ours(delivery_id, owner, now + timedelta(seconds=monotonic() - began)):
            result.withdrawn.append(delivery_id)
            continue
        headers = {"Content-Type": "application/json", "User-Agent": "careplan-webhooks/1",
                   "X-Careplan-Event": event_type, "X-Careplan-Event-Id": event_id,
                   SIGNATURE_HEADER: sign(secret, int(utcnow().timestamp()), body)}
        status, error = post(url, body, headers, timeout)
        _record(delivery_id, owner, status, error, now, result)
    return result


def _still_ours(delivery_id: int, owner: str, moment: datetime) -> bool:
    """Just before a POST: still ours and pending, our lease not run out (after it another worker may have
    claimed the delivery), and the lease renewed in the same statement, so nobody claims it while it is
    posted. A batch slower than its lease (receivers answering slowly) posts no more of it."""
    lease = timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
    ours = db.session.execute(_STILL_OURS, {"delivery_id": delivery_id, "owner": owner, "moment": moment,
                                            "renewed": moment + lease}).scalar()
    db.session.commit()
    return ours is not None


# Built once, as the dispatcher's own check is (careplan.reminders.dispatch): it runs before every POST.
_DELIVERIES = WebhookDelivery.__table__
_STILL_OURS = (update(_DELIVERIES)
               .where(_DELIVERIES.c.id == bindparam("delivery_id"), _DELIVERIES.c.lease_owner == bindparam("owner"),
                      _DELIVERIES.c.status == "pending", _DELIVERIES.c.lease_expires_at > bindparam("moment"))
               .values(lease_expires_at=bindparam("renewed")).returning(_DELIVERIES.c.id))


def deliver_due(*, now=utcnow) -> DeliveryResult:
    """Batches until nothing due is left to claim. `now` is a clock."""
    owner = worker_name()
    total = DeliveryResult()
    while True:
        result = deliver_batch(owner=owner, now=now())
        total.claimed += result.claimed
        total.sent += result.sent
        total.retrying += result.retrying
        total.failed += result.failed
        total.withdrawn += result.withdrawn
        if result.claimed == 0:
            return total
