"""Idempotency-Key for POSTs that book: a retried request gets the first answer and books nothing twice.

The key is claimed (a row inserted under a unique (user, key) constraint) in
the same transaction as the booking, so two concurrent requests with one key
cannot both book: on PostgreSQL the second insert waits for the first
transaction and then fails on the unique index; on SQLite write
transactions are serialised and the second finds the row. The answer is
stored right after the booking commits; a request that finds the key
claimed but not yet answered waits briefly for that answer.
"""
from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime
from functools import wraps

from flask import Response, request
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from careplan.db import Base, UTCDateTime, utcnow
from careplan.errors import Conflict, Invalid, ServiceError, error_body
from careplan.extensions import db

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# How long a retry waits for the first request's answer before saying it is still in progress.
WAIT_FOR_ANSWER_SECONDS = 10.0

HEADER_DOC = {
    "in": "header", "name": HEADER, "required": False,
    "description": "Any unique string (e.g. a UUID) per intended booking: a retry with the same key "
                   "returns the first answer and books nothing twice.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


class IdempotentRequest(Base):
    """A booking request made with an Idempotency-Key, and the answer it got."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Empty while the first request is still being answered.
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _fingerprint() -> str:
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), body])).hexdigest()


def _find(user_id: int, key: str) -> IdempotentRequest | None:
    return db.session.scalar(select(IdempotentRequest).where(
        IdempotentRequest.user_id == user_id, IdempotentRequest.key == key))


def _replay(user_id: int, key: str, fingerprint: str) -> Response:
    deadline = time.monotonic() + WAIT_FOR_ANSWER_SECONDS
    while True:
        record = _find(user_id, key)
        if record is None:
            raise Conflict("The first request with this Idempotency-Key failed while this one waited; retry it.",
                           fields={HEADER: "first request did not finish"})
        if record.fingerprint != fingerprint:
            raise Invalid(f"This {HEADER} was already used for a different request; use a new key.",
                          fields={HEADER: "already used for a different request"})
        if record.response_status is not None:
            response = Response(record.response_body, status=record.response_status, mimetype="application/json")
            response.headers["Idempotent-Replayed"] = "true"
            db.session.rollback()
            return response
        # Let the first request's transaction finish (SQLite holds the write lock while we look).
        db.session.rollback()
        if time.monotonic() > deadline:
            raise Conflict(f"A request with this {HEADER} is still being processed; retry shortly.",
                           fields={HEADER: "still being processed"})
        time.sleep(0.05)


def _store(record: IdempotentRequest, status: int, body: str) -> None:
    record.response_status = status
    record.response_body = body
    db.session.commit()


def idempotent(view):
    """Wear it inside `login_required`, outside flask-smorest's decorators, on POST views that book."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        from careplan.auth.edge import current_user

        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise Invalid(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.", fields={HEADER: "bad length"})
        user_id = current_user().id
        fingerprint = _fingerprint()
        if _find(user_id, key) is not None:
            return _replay(user_id, key, fingerprint)
        record = IdempotentRequest(user_id=user_id, key=key, fingerprint=fingerprint)
        db.session.add(record)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            return _replay(user_id, key, fingerprint)
        try:
            response = view(*args, **kwargs)
        except ServiceError as exc:
            # The booking was refused and rolled back, claim included; keep the refusal as the answer.
            db.session.rollback()
            body = json.dumps(error_body(exc.status, exc.message, code=exc.code, fields=exc.fields, extra=exc.extra))
            db.session.add(IdempotentRequest(user_id=user_id, key=key, fingerprint=fingerprint,
                                             response_status=exc.status, response_body=body))
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
            raise
        _store(db.session.merge(record), response.status_code, response.get_data(as_text=True))
        return response

    return wrapped
