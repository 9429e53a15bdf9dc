"""Optimistic locking for the records two people may edit at once: care plans, patients and providers.

Each carries a `version`, mapped as the ORM's `version_id_col` (without a generator: the services count it
up, the plan's through its history). Every UPDATE then names the version it read, so a writer whose row
another transaction changed in between fails at the database (StaleDataError, answered 409
`changed_meanwhile` by careplan.errors) instead of overwriting.

A caller who read an older version says so: the API through `If-Match` with the ETag of its read (412
`precondition_failed` when it is no longer current), the web forms with the version in a hidden field.
A change without either is applied: a clinic's integrations may never send If-Match.
"""
from __future__ import annotations

import re
from collections.abc import Collection

from flask import request
from werkzeug.http import quote_etag

from careplan.errors import ErrorSchema, PreconditionFailed

# Names of the records in ETags and messages.
KINDS = {"CarePlan": ("plan", "care plan"), "Patient": ("patient", "patient"), "Provider": ("provider", "provider")}


def etag(record) -> str:
    """The strong ETag (quoted) of a record as it is now: kind, id and version, so no other record matches."""
    kind, _ = KINDS[type(record).__name__]
    return quote_etag(f"{kind}-{record.id}-v{record.version}")


def with_etag(record):
    """A view's (result, headers) with the record's ETag, for flask-smorest's response."""
    return record, {"ETag": etag(record)}


def if_match(model, record_id: int) -> frozenset[int] | None:
    """For routes: the versions the request's If-Match accepts; None when it sets none (no header, or `*`).

    A tag that is not one of this record's (another record's, a weak one, garbage) matches no version.
    """
    tags = request.if_match
    if not tags or tags.star_tag:
        return None
    kind, _ = KINDS[model.__name__]
    pattern = re.compile(rf"{re.escape(kind)}-{record_id}-v(\d+)")
    return frozenset(int(m[1]) for tag in tags.as_set() if (m := pattern.fullmatch(tag)))


def check_version(record, expected: int | Collection[int] | None) -> None:
    """Refuse a change made from a read of another version than the record's current one."""
    if expected is None:
        return
    accepted = {expected} if isinstance(expected, int) else set(expected)
    if record.version not in accepted:
        _, label = KINDS[type(record).__name__]
        raise PreconditionFailed(
            f"This {label} was changed by someone else meanwhile (it is now at version {record.version}); "
            "nothing was saved. Read it again and make your change on the current version.",
            extra={"current_version": record.version})


def count_change(record) -> None:
    """One more version of a patient or provider. Counted by hand because a change of its hours or time off
    alone touches other tables, where the ORM would not count it."""
    record.version += 1


def documents_if_match(blp, what: str = "the record"):
    """OpenAPI for a change that honours If-Match: the header, and the 412 it may answer."""
    def decorate(view):
        view = blp.alt_response(412, schema=ErrorSchema,
                                description=f"If-Match names a version of {what} that is no longer current")(view)
        return blp.doc(parameters=[{
            "in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
            "description": f"the ETag of {what} as last read; the change is refused (412) if it changed since. "
                           "Without it the change is applied."}])(view)
    return decorate
