"""The audit trail: who looked at or changed which patient's record, when and from where, and every refusal.

Call `record(..., caller=)` in any service that reads or changes a patient's record, plan, appointments or
notes; the caller (careplan.caller) says who and from where, so the trail is the same from a request, a
worker or a command. A change's row joins the transaction of the change: both are committed together, or
neither. Reads and refusals are recorded whatever the answer: their rows are also kept on the database
session until a commit makes them durable, and when the transaction is rolled back instead (an error
answer, a refused request), `write_kept` writes them again in a short transaction of their own, after the
rollback (so, on SQLite, it does not wait on the rolled-back transaction's write lock).
"""
from __future__ import annotations

from datetime import datetime

from collections.abc import Iterable

from sqlalchemy import event, insert, or_, select
from sqlalchemy.orm import Session

from careplan.audit.models import AuditEvent, AuditEventPatient
from careplan.caller import Caller
from careplan.extensions import db

ACTIONS = ("read", "create", "update", "delete", "denied", "login", "logout")
# What happened whatever the request answered: a look at a record, a refusal.
KEPT_ACTIONS = ("read", "denied")
_KEPT = "careplan.audit.kept"


def _fields(action: str, resource: str, resource_id, patient_id, detail: str, caller: Caller) -> dict:
    return {"user_id": caller.user_id, "role": caller.role, "action": action, "resource": resource,
            "resource_id": str(resource_id if resource_id is not None else "")[:40], "patient_id": patient_id,
            "remote_addr": (caller.remote_addr or "")[:64], "origin": caller.origin, "detail": detail[:400]}


def _new_event(fields: dict, patients: Iterable[int]) -> AuditEvent:
    return AuditEvent(**fields, patients=[AuditEventPatient(patient_id=p) for p in sorted(set(patients))])


def record(action: str, resource: str, resource_id, patient_id: int | None = None, detail: str = "", *,
           caller: Caller, patients: Iterable[int] = ()) -> None:
    """Append that `caller` did `action` to `resource` #`resource_id` (of patient `patient_id`), now.
    `patients`: every patient whose data a list or search returned (their ids), for `who_saw`."""
    fields = _fields(action, resource, resource_id, patient_id, detail, caller)
    patients = [p for p in patients if p is not None]
    db.session.add(_new_event(fields, patients))
    if action in KEPT_ACTIONS:
        db.session.info.setdefault(_KEPT, []).append((fields, patients))


def record_many(action: str, resource: str, items: Iterable[tuple], *, caller: Caller) -> None:
    """`record` of a change to many resources at once, each item `(resource_id, patient_id, detail)`: one
    INSERT for all of them (a proposal's thirty appointments), in the caller's transaction like `record`'s
    rows. Reads and refusals, which must outlive a rollback, go through `record`."""
    if action in KEPT_ACTIONS:
        raise ValueError(f"record_many writes changes; a {action} goes through record()")
    rows = [_fields(action, resource, resource_id, patient_id, detail, caller)
            for resource_id, patient_id, detail in items]
    if rows:
        db.session.execute(insert(AuditEvent).execution_options(render_nulls=True), rows)


def patients_of(rows) -> list[int]:
    """The patients listed rows are about: a patient row itself, else the row's `patient_id`."""
    from careplan.patients.models import Patient

    return [row.id if isinstance(row, Patient) else row.patient_id for row in rows]


def record_listed(resource: str, rows, patient_id: int | None = None, *, caller: Caller,
                  patients: Iterable[int] | None = None) -> None:
    """One `read` row for a listed page, naming the ids on it and the patients they are about (by default
    `patients_of(rows)`); a patient's list is of their own record."""
    rows = list(rows)
    if patient_id is None and caller.role == "patient":
        patient_id = caller.user.patient_id
    record("read", resource, "", patient_id, detail=f"listed {resource}s " + ",".join(str(row.id) for row in rows),
           caller=caller, patients=patients_of(rows) if patients is None else patients)


def note_denied(resource: str, resource_id="", *, caller: Caller, patient_id: int | None = None, detail: str = "",
                user=None) -> None:
    """Record a refusal; it stands even though the refused request's own transaction is rolled back.
    `user` names the account a refusal was about when the caller is not yet anyone (a failed sign-in)."""
    if user is not None and caller.user is None:
        caller = Caller(user, caller.remote_addr, caller.origin)
    record("denied", resource, resource_id, patient_id, detail, caller=caller)


@event.listens_for(Session, "after_commit")
def _kept_rows_are_durable(session: Session) -> None:
    session.info.pop(_KEPT, None)


def write_kept(*, status: int | None = None, request_line: str = "") -> None:
    """After a rollback, write the reads and refusals the rolled-back transaction held, alone, so they
    survive it; `status` and `request_line` ("POST /api/v1/...") tell the trail how the request ended."""
    kept = db.session.info.pop(_KEPT, None)
    if not kept:
        return
    db.session.rollback()
    for fields, patients in kept:
        if fields["action"] == "denied":
            detail = f"{status or ''} {fields['detail']} ({request_line})" if request_line else fields["detail"]
        else:
            detail = f"{fields['detail']} (answered {status})" if status else fields["detail"]
        db.session.add(_new_event({**fields, "detail": detail.strip()[:400]}, patients))
    db.session.commit()


def search(*, user_id: int | None = None, patient_id: int | None = None, action: str | None = None,
           resource: str | None = None, start: datetime | None = None, end: datetime | None = None):
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if patient_id is not None:
        query = query.where(_about(patient_id))
    if action:
        query = query.where(AuditEvent.action == action)
    if resource:
        query = query.where(AuditEvent.resource == resource)
    if start is not None:
        query = query.where(AuditEvent.at >= start)
    if end is not None:
        query = query.where(AuditEvent.at < end)
    return query


def _about(patient_id: int):
    """Events about this patient: their own record, or a list or search that returned their data."""
    listed = select(AuditEventPatient.event_id).where(AuditEventPatient.patient_id == patient_id)
    return or_(AuditEvent.patient_id == patient_id, AuditEvent.id.in_(listed))


# What shows a patient's data to the one who does it (a refusal shows nothing).
SEEING_ACTIONS = ("read", "create", "update", "delete")


def seen_query(patient_id: int, *, start: datetime | None = None, end: datetime | None = None):
    """Every time someone saw this patient's data, oldest first: reads of their record, pages and lists that
    showed it, searches that returned it, and changes to it, from the API, the pages, FHIR, feeds, e-mail
    links, workers and commands. 404 for a patient that does not exist (a deleted one's trail is still found by
    `search(patient_id=...)`)."""
    from careplan.patients.models import Patient
    from careplan.records import get_or_404

    get_or_404(Patient, patient_id, f"No patient {patient_id}.")
    query = (select(AuditEvent).where(_about(patient_id), AuditEvent.action.in_(SEEING_ACTIONS))
             .order_by(AuditEvent.at, AuditEvent.id))
    if start is not None:
        query = query.where(AuditEvent.at >= start)
    if end is not None:
        query = query.where(AuditEvent.at < end)
    return query


def who_saw(patient_id: int, *, start: datetime | None = None, end: datetime | None = None) -> list[AuditEvent]:
    return list(db.session.scalars(seen_query(patient_id, start=start, end=end)))
