"""The dispatcher: claim due e-mails under a lease, send them outside any transaction, mark them sent.

Claiming is one short transaction: on PostgreSQL `FOR UPDATE SKIP LOCKED`
lets several dispatchers take disjoint rows at once; on SQLite every
transaction starts with BEGIN IMMEDIATE (careplan.db), so claims simply queue.
The claim writes a lease (owner, expiry) and commits; a row whose lease has
run out is claimable again, which is how a crashed dispatcher's e-mails still
go out. Marking is conditional on still holding the lease.

Reminders of an appointment flagged for the front desk (careplan.scheduling.attention: a change of the
clinician's hours or time off left it outside them) are held: never claimed, and released unsent if the
flag came after the claim. They stay pending: when the flag clears the attention rule re-times them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import monotonic

from flask import current_app
from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.orm import selectinload

from careplan.caller import worker_name
from careplan.clinic.models import Discipline
from careplan.clinic.service import settings
from careplan.db import utcnow
from careplan.extensions import db
from careplan.mail.backends import SendFailure, backend_for
from careplan.reminders.messages import compose
from careplan.reminders.models import OutboundEmail
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    claimed: int = 0
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)
    # Flagged after the claim: released unsent, still pending.
    held: list[int] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        self.claimed += other.claimed
        for name in ("sent", "retrying", "failed", "withdrawn", "held"):
            getattr(self, name).extend(getattr(other, name))


def not_held():
    """The condition an e-mail must meet to go out: not a reminder of an appointment flagged for the front desk."""
    flagged = select(Appointment.id).where(Appointment.id == OutboundEmail.appointment_id,
                                           Appointment.flag_reason.is_not(None))
    return or_(OutboundEmail.kind != "reminder", ~exists(flagged))


def claim(owner: str, *, now: datetime, due_before: datetime, limit: int) -> list[int]:
    """Lease up to `limit` due e-mails to `owner` and commit; the ids claimed."""
    lease = timedelta(seconds=current_app.config["REMINDER_LEASE_SECONDS"])
    ids = list(db.session.scalars(
        select(OutboundEmail.id)
        .where(OutboundEmail.status == "pending", OutboundEmail.due_at <= due_before,
               or_(OutboundEmail.next_attempt_at.is_(None), OutboundEmail.next_attempt_at <= now),
               or_(OutboundEmail.lease_expires_at.is_(None), OutboundEmail.lease_expires_at <= now),
               not_held())
        .order_by(OutboundEmail.due_at, OutboundEmail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)))
    if ids:
        db.session.execute(update(OutboundEmail).where(OutboundEmail.id.in_(ids)).values(
            lease_owner=owner, lease_expires_at=now + lease, attempts=OutboundEmail.attempts + 1))
    db.session.commit()
    return ids


def _withdraw_reason(row: OutboundEmail, now: datetime) -> str | None:
    """A reminder that should no longer go: the appointment changed after it was queued."""
    if row.kind != "reminder":
        return None
    appointment = row.appointment
    if appointment is None or appointment.status not in ACTIVE_STATUSES:
        return "appointment no longer booked"
    if row.patient.reminder_opt_out:
        return "patient opted out of reminders"
    if appointment.starts_at <= now:
        return "appointment has started"
    return None


def _release(row: OutboundEmail) -> None:
    row.lease_owner = None
    row.lease_expires_at = None


def _prepare(ids: list[int], owner: str, now: datetime, result: BatchResult) -> list[tuple[int, str, object]]:
    """Compose the claimed e-mails in one transaction, so that sending needs no database."""
    prepared = []
    # The clinic's settings and disciplines, which every e-mail reads: held here, so the session's identity
    # map (which holds rows weakly) keeps them for the whole batch instead of reading them again each time.
    shared = [settings(), *db.session.scalars(select(Discipline))]
    # Each e-mail's patient, appointment and clinician in three statements for the batch, not three each.
    rows = db.session.scalars(select(OutboundEmail).where(OutboundEmail.id.in_(ids), OutboundEmail.lease_owner == owner,
                                                          OutboundEmail.status == "pending")
                              .options(selectinload(OutboundEmail.patient),
                                       selectinload(OutboundEmail.appointment).selectinload(Appointment.provider)))
    for row in rows:
        if row.kind == "reminder" and row.appointment is not None and row.appointment.flag_reason is not None:
            _release(row)
            # Claimed, not tried: the attempt counted at the claim never happened.
            row.attempts -= 1
            result.held.append(row.id)
            continue
        reason = _withdraw_reason(row, now)
        if reason:
            row.status, row.last_error = "cancelled", reason
            _release(row)
            result.withdrawn.append(row.id)
            continue
        try:
            message = compose(row)
        except (ValueError, TypeError, LookupError) as exc:
            # Nothing to retry: the data cannot make this e-mail (an address the mail library refuses, ...).
            row.status, row.last_error = "failed", f"could not compose: {exc}"[:1000]
            _release(row)
            result.failed.append(row.id)
            continue
        row.message_id = message.extra_headers["Message-ID"]
        row.recipient = row.patient.email
        prepared.append((row.id, f"{row.id:09d}-{row.kind}", message))
    db.session.commit()
    del shared
    return prepared


# The two statements every e-mail sends, built once (building and caching them anew was a tenth of an
# e-mail's CPU), on the table rather than the class: no ORM bookkeeping for rows the batch no longer holds.
_EMAILS = OutboundEmail.__table__
_OURS = (_EMAILS.c.id == bindparam("email_id"), _EMAILS.c.lease_owner == bindparam("owner"),
         _EMAILS.c.status == "pending")
# Checked just before a send: still ours, pending and not held, and our lease not run out (after it, another
# dispatcher may have claimed it); the lease is renewed in the same statement, so nobody can claim it while it
# is sent. A batch slower than its lease (a mail server answering slowly) loses its e-mails rather than
# sending one a second dispatcher sends too.
_STILL_OURS = (update(_EMAILS).where(*_OURS, _EMAILS.c.lease_expires_at > bindparam("moment"), not_held())
               .values(lease_expires_at=bindparam("renewed")).returning(_EMAILS.c.id))
_MARK_SENT = update(_EMAILS).where(*_OURS).values(
    status="sent", sent_at=bindparam("sent_at_now", type_=_EMAILS.c.sent_at.type), last_error="",
    lease_owner=None, lease_expires_at=None)


# PostgreSQL: the mark and the check in one statement (the UPDATE in a WITH runs whether or not the SELECT
# reads it; the two rows differ), sent on a connection of its own in autocommit, where it is its own
# transaction: one round trip an e-mail instead of three (UPDATE, SELECT, COMMIT), each a wait for the
# server's turn on a loaded machine.
_MARK_SENT_AND_CHECK = _STILL_OURS.add_cte(
    update(_EMAILS).where(_EMAILS.c.id == bindparam("sent_id"), *_OURS[1:]).values(
        status="sent", sent_at=bindparam("sent_at_now", type_=_EMAILS.c.sent_at.type), last_error="",
        lease_owner=None, lease_expires_at=None).returning(_EMAILS.c.id).cte("marked"))


def _lease_at(moment: datetime) -> dict:
    return {"moment": moment, "renewed": moment + timedelta(seconds=current_app.config["REMINDER_LEASE_SECONDS"])}


def _mark_sent_and_check(connection, sent: int, email_id: int, owner: str, now: datetime, moment: datetime) -> bool:
    """`_mark_sent` of `sent` and `_still_ours` of `email_id`, committed together, on `connection`."""
    return connection.execute(_MARK_SENT_AND_CHECK, {"sent_id": sent, "email_id": email_id, "owner": owner,
                                                     "sent_at_now": now, **_lease_at(moment)}).scalar() is not None


def _still_ours(email_id: int, owner: str, *, sent: int | None = None, now: datetime | None = None,
                moment: datetime | None = None, connection=None) -> bool:
    """Checked just before sending, and the lease renewed from `moment` (the dispatcher's clock now): a
    booking may have withdrawn the e-mail since the batch was composed, and a batch slower than its lease may
    have lost it to another dispatcher. `sent`: the e-mail sent just before this one, marked sent in the same
    transaction (one commit an e-mail, not two); `connection`: an autocommit connection on PostgreSQL, for
    `_mark_sent_and_check`."""
    moment = moment or now or utcnow()
    if sent is not None and connection is not None:
        return _mark_sent_and_check(connection, sent, email_id, owner, now, moment)
    if sent is not None:
        _mark_sent(sent, owner, now, commit=False)
    held = db.session.execute(_STILL_OURS, {"email_id": email_id, "owner": owner, **_lease_at(moment)}).scalar()
    db.session.commit()
    return held is not None


def _mark_sent(email_id: int, owner: str, now: datetime, *, commit: bool = True) -> None:
    db.session.execute(_MARK_SENT, {"email_id": email_id, "owner": owner, "sent_at_now": now})
    if commit:
        db.session.commit()


def _mark_failure(email_id: int, owner: str, failure: SendFailure, now: datetime, result: BatchResult) -> None:
    config = current_app.config
    row = db.session.get(OutboundEmail, email_id)
    if row is None or row.lease_owner != owner or row.status != "pending":
        db.session.commit()
        return
    limit = config["MAIL_PERMANENT_ATTEMPTS"] if failure.permanent else config["MAIL_MAX_ATTEMPTS"]
    row.last_error = f"attempt {row.attempts}: {failure}"[:1000]
    _release(row)
    if row.attempts >= limit:
        row.status = "failed"
        result.failed.append(email_id)
        log.warning("e-mail %s failed for good after %s attempts: %s", email_id, row.attempts, failure)
    else:
        wait = min(config["MAIL_RETRY_SECONDS"] * 2 ** (row.attempts - 1), config["MAIL_RETRY_MAX_SECONDS"])
        row.next_attempt_at = now + timedelta(seconds=wait)
        result.retrying.append(email_id)
    db.session.commit()


def dispatch_batch(*, owner: str | None = None, now: datetime | None = None,
                   due_before: datetime | None = None) -> BatchResult:
    """Claim one batch, send it, record what happened."""
    owner = owner or worker_name()
    now = now or utcnow()
    result = BatchResult()
    ids = claim(owner, now=now, due_before=due_before or now, limit=current_app.config["REMINDER_BATCH_SIZE"])
    result.claimed = len(ids)
    if not ids:
        return result
    prepared = _prepare(ids, owner, now, result)
    backend = backend_for(current_app)
    marking = (db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
               if prepared and db.engine.dialect.name == "postgresql" else None)
    # Sent, not marked yet: marked with the next e-mail's check, or at the end.
    unmarked = None
    # The leases were written on the batch's clock (`now`, which a test may set): it runs on from there.
    began = monotonic()
    try:
        for email_id, name, message in prepared:
            moment = now + timedelta(seconds=monotonic() - began)
            ours = _still_ours(email_id, owner, sent=unmarked, now=now, moment=moment, connection=marking)
            unmarked = None
            if not ours:
                result.withdrawn.append(email_id)
                continue
            try:
                backend.send(message, name)
            except SendFailure as failure:
                _mark_failure(email_id, owner, failure, now, result)
            else:
                unmarked = email_id
                result.sent.append(email_id)
    finally:
        try:
            if unmarked is not None:
                _mark_sent(unmarked, owner, now)
        finally:
            backend.close()
            if marking is not None:
                marking.close()
    return result


def count_due(*, now: datetime | None = None, due_before: datetime | None = None) -> int:
    """How many e-mails a dispatch would find to send now (others may take some meanwhile)."""
    now = now or utcnow()
    count = db.session.scalar(
        select(func.count()).select_from(OutboundEmail)
        .where(OutboundEmail.status == "pending", OutboundEmail.due_at <= (due_before or now),
               or_(OutboundEmail.next_attempt_at.is_(None), OutboundEmail.next_attempt_at <= now),
               or_(OutboundEmail.lease_expires_at.is_(None), OutboundEmail.lease_expires_at <= now),
               # As claim() sees them: a flagged appointment's reminders wait for the desk, they are not due.
               not_held()))
    db.session.commit()
    return count


def dispatch_due(*, once: bool = False, due_before: datetime | None = None, now=utcnow,
                 on_batch=None) -> BatchResult:
    """Batches until nothing due is left to claim (or one batch with `once`). `now` is a clock;
    `on_batch(batch, total so far)` is told of each batch as it finishes."""
    owner = worker_name()
    total = BatchResult()
    while True:
        result = dispatch_batch(owner=owner, now=now(), due_before=due_before)
        total.add(result)
        if on_batch is not None and result.claimed:
            on_batch(result, total)
        if once or result.claimed == 0:
            return total
