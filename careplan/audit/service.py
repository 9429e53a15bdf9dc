"""The audit trail: who looked at or changed which patient's record, when and from where, and every refusal.

Call `record(...)` in any view or service that reads or changes a patient's record, plan, appointments or
notes. The row joins the request's transaction: a change and its audit row are committed together, and
for a read the row is committed when the request answers successfully (the hook below). Refusals go the
other way: the request's transaction is rolled back, then the refusal is written in a short transaction
of its own, so it survives the rollback (and, on SQLite, does not wait on the request's own write lock).
"""
from __future__ import annotations

from datetime import datetime

from flask import Flask, g, has_request_context, request
from sqlalchemy import select

from careplan.access_log import redact
from careplan.audit.models import AuditEvent
from careplan.extensions import db

ACTIONS = ("read", "create", "update", "delete", "denied", "login", "logout")


def _who() -> tuple:
    from careplan.auth.service import current_user

    if not has_request_context():
        return None, "", ""
    user = current_user()
    return user, (request.remote_addr or "")[:64], user.role if user else ""


def _event(action: str, resource: str, resource_id, patient_id, detail: str, user, remote_addr: str) -> AuditEvent:
    return AuditEvent(user_id=user.id if user else None, role=user.role if user else "", action=action,
                      resource=resource, resource_id=str(resource_id if resource_id is not None else "")[:40],
                      patient_id=patient_id, remote_addr=remote_addr, detail=detail[:400])


def record(action: str, resource: str, resource_id, patient_id: int | None = None, detail: str = "") -> None:
    """Append who did `action` to `resource` #`resource_id` (of patient `patient_id`), now, from where.
    Committed with the request's own transaction, or by the caller outside a request."""
    user, remote_addr, _ = _who()
    db.session.add(_event(action, resource, resource_id, patient_id, detail, user, remote_addr))


def record_listed(resource: str, rows, patient_id: int | None = None) -> None:
    """One `read` row for a listed page, naming the ids on it; a patient's list is of their own record."""
    user, _, _ = _who()
    if patient_id is None and user is not None and user.role == "patient":
        patient_id = user.patient_id
    record("read", resource, "", patient_id, detail=f"listed {resource}s " + ",".join(str(row.id) for row in rows))


def note_denied(resource: str, resource_id="", *, patient_id: int | None = None, detail: str = "",
                user=None) -> None:
    """Remember a refusal of this request; written after the request's transaction is rolled back."""
    if not has_request_context():
        return
    if user is None:
        user, _, _ = _who()
    g.audit_denied = (resource, resource_id, patient_id,
                      f"{detail} ({request.method} {redact(request.path)})".strip(), user)


def _finish_request(response):
    """Commit a successful request's audit rows; after a failed one, roll back and write its refusal alone."""
    if response.status_code < 400:
        db.session.commit()
        return response
    db.session.rollback()
    denied = g.pop("audit_denied", None)
    if denied is not None:
        resource, resource_id, patient_id, detail, user = denied
        db.session.add(_event("denied", resource, resource_id, patient_id, f"{response.status_code} {detail}",
                              user, (request.remote_addr or "")[:64]))
        db.session.commit()
    return response


def register(app: Flask) -> None:
    app.after_request(_finish_request)


def search(*, user_id: int | None = None, patient_id: int | None = None, action: str | None = None,
           resource: str | None = None, start: datetime | None = None, end: datetime | None = None):
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if resource:
        query = query.where(AuditEvent.resource == resource)
    if start is not None:
        query = query.where(AuditEvent.at >= start)
    if end is not None:
        query = query.where(AuditEvent.at < end)
    return query
