"""Signed webhooks: an admin registers another system's URL for some events; each event is queued for each
endpoint that wants it in the same transaction as the change it tells of (so a rolled-back booking tells
nobody, and a committed one is never forgotten), and the workers deliver it later (careplan.webhooks.delivery).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from careplan.caller import Caller
from careplan.audit.service import record
from careplan.db import utcnow
from careplan.errors import Conflict, NotFound
from careplan.extensions import db
from careplan.webhooks.models import WebhookDelivery, WebhookEndpoint

SIGNATURE_HEADER = "X-Careplan-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The timestamp
    is inside what is signed, so a receiver that refuses old timestamps refuses a replayed delivery."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def create_endpoint(data: dict, *, caller: Caller) -> WebhookEndpoint:
    """The new endpoint; only the answer to its creation shows the secret (NewEndpointSchema)."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(url=data["url"], events=sorted(set(data["events"])), secret=secret,
                               description=data.get("description", ""), created_by_id=caller.user_id)
    db.session.add(endpoint)
    db.session.flush()
    record("create", "webhook", endpoint.id, detail=f"{endpoint.url} for {', '.join(endpoint.events)}",
           caller=caller)
    db.session.commit()
    return endpoint


def list_endpoints():
    return select(WebhookEndpoint).where(WebhookEndpoint.active).order_by(WebhookEndpoint.id)


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.active:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def remove_endpoint(endpoint_id: int, *, caller: Caller) -> None:
    """Stops it: no new deliveries, pending ones withdrawn; the history of what was sent stays."""
    endpoint = get_endpoint(endpoint_id)
    endpoint.active = False
    for delivery in db.session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")):
        delivery.status, delivery.last_error = "cancelled", "endpoint removed"
    record("delete", "webhook", endpoint.id, detail=endpoint.url, caller=caller)
    db.session.commit()


def deliveries_of(endpoint_id: int, *, status: str | None = None):
    """The endpoint's deliveries, newest first (`status="failed"` for the failures)."""
    get_endpoint(endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    return query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())


def last_deliveries(endpoint_id: int, limit: int = 10) -> list[WebhookDelivery]:
    return list(db.session.scalars(deliveries_of(endpoint_id).limit(limit)))


def resend(delivery_id: int, *, caller: Caller, now: datetime | None = None) -> WebhookDelivery:
    """Queue a delivery again, the same event (same id) with a fresh count of attempts."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or not delivery.endpoint.active:
        raise NotFound(f"No webhook delivery {delivery_id}.")
    if delivery.status == "pending":
        raise Conflict(f"Delivery {delivery_id} is still queued.", fields={"status": "pending"})
    delivery.status, delivery.attempts = "pending", 0
    delivery.due_at, delivery.next_attempt_at = now or utcnow(), None
    delivery.lease_owner = delivery.lease_expires_at = None
    record("update", "webhook", delivery.endpoint_id, detail=f"delivery {delivery.id} resent", caller=caller)
    db.session.commit()
    return delivery


def emit(event_type: str, items: list[dict], *, now: datetime | None = None) -> None:
    """Queue one event per item in `items` for every active endpoint that wants `event_type`; no commit (the
    caller's transaction carries them). One query when nobody listens."""
    if not items:
        return
    endpoints = [e for e in _active_endpoints() if event_type in e.events]
    if not endpoints:
        return
    now = now or utcnow()
    values = []
    for data in items:
        event = {"id": f"evt_{uuid.uuid4().hex}", "type": event_type, "created_at": now.isoformat(), "data": data}
        values += [{"endpoint_id": endpoint.id, "event_id": event["id"], "event_type": event_type, "payload": event,
                    "due_at": now, "created_at": now} for endpoint in endpoints]
    # One INSERT for a proposal's thirty appointments, not one each.
    db.session.execute(insert(WebhookDelivery).execution_options(render_nulls=True), values)


_CACHE_KEY = "careplan.webhook_endpoints"


def _active_endpoints() -> list[WebhookEndpoint]:
    """Read once per transaction: a re-plan moving thirty appointments asks once, not thirty times."""
    info = db.session.info
    if _CACHE_KEY not in info:
        info[_CACHE_KEY] = list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active)))
    return info[_CACHE_KEY]


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_endpoints(session) -> None:
    session.info.pop(_CACHE_KEY, None)


def appointment_data(appointment, **more) -> dict:
    """What an event tells of an appointment: ids and times (the clinic's, with their UTC offset, as the API
    answers them), no names or clinical detail."""
    from careplan.clinic.service import to_local

    return {"appointment_id": appointment.id, "patient_id": appointment.patient_id,
            "provider_id": appointment.provider_id, "discipline": appointment.discipline_code,
            "start": to_local(appointment.starts_at).isoformat(), "end": to_local(appointment.ends_at).isoformat(),
            "status": appointment.status, "plan_id": appointment.plan_id, "sequence": appointment.sequence, **more}
