"""One error format for the whole API: {"error": {"code", "message", "fields"}}.

Services raise `ServiceError` subclasses; Flask's own HTTP errors (404, 405,
the 422 of request parsing) and unexpected exceptions are turned into the
same shape here, so no route formats an error by hand.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ErrorDetailSchema(Schema):
    class Meta:
        # Some errors carry more, e.g. a conflict's `conflicting_appointment_ids`.
        unknown = INCLUDE

    code = fields.String(required=True, metadata={"description": "what went wrong, for programs"})
    message = fields.String(required=True, metadata={"description": "what went wrong, for people"})
    request_id = fields.String(metadata={"description": "the request's X-Request-ID, as on its log lines"})
    fields = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "each offending field's path and what is wrong with it"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


class ServiceError(Exception):
    """A business rule said no; carries what the API answers."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code
        self.extra = extra or {}


class Invalid(ServiceError):
    status = 422
    code = "invalid"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Unauthenticated(ServiceError):
    status = 401
    code = "unauthenticated"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class PreconditionFailed(ServiceError):
    """The caller changed a record from a read that is no longer current (If-Match, a form's version)."""

    status = 412
    code = "precondition_failed"


class TooManyRequests(ServiceError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, **kwargs):
        super().__init__(message, **kwargs)
        self.headers = [("Retry-After", str(max(1, retry_after)))]


def error_body(status: int, message: str, *, code: str | None = None, fields: dict | None = None, extra: dict | None = None) -> dict:
    from careplan.operations.logs import current_request_id

    body = {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}
    body.update(extra or {})
    request_id = current_request_id()
    if request_id:
        # The same id as the response's X-Request-ID and the request's log lines.
        body["request_id"] = request_id
    return {"error": body}


def flatten_messages(messages, prefix: str = "") -> dict[str, str]:
    """Turn marshmallow's nested messages into {"availability[1].start": "..."}."""
    flat: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix or "_schema"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, path))
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            flat[prefix or "_schema"] = " ".join(messages)
        else:
            for item in messages:
                flat.update(flatten_messages(item, prefix))
    else:
        flat[prefix or "_schema"] = str(messages)
    return flat


def parsing_fields(exc: HTTPException) -> dict[str, str]:
    """webargs puts {"json": {...}, "query": {...}} on the exception; the location is not a field."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    fields: dict[str, str] = {}
    for location_messages in messages.values():
        fields.update(flatten_messages(location_messages))
    return fields


# Paths that answer JSON; every other path is a page for people and answers an HTML page.
MACHINE_PATHS = ("/api", "/fhir", "/healthz", "/metrics")


def for_a_page() -> bool:
    return not request.path.startswith(MACHINE_PATHS) or _view_answers_people()


def _view_answers_people() -> bool:
    """A view under a machine path that people open in a browser (the links of e-mails) sets
    `answers_people = True` on its class; its errors are pages too."""
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(getattr(view, "view_class", None), "answers_people", False))


_PAGE_RENDERER = "careplan.error_page"
_ROLLBACK = "careplan.error_rollback"


def register_page_renderer(app: Flask, renderer: Callable[[int, str], Response]) -> None:
    """The HTML error page for requests of people, set by `create_app` (careplan.web.errors.error_page), so
    that this module, which everything imports, imports nothing of the pages. Without one, pages get JSON."""
    app.extensions[_PAGE_RENDERER] = renderer


def _response(status: int, body: dict, headers=None):
    from flask import current_app

    renderer = current_app.extensions.get(_PAGE_RENDERER)
    if renderer is not None and for_a_page():
        response = renderer(status, body["error"]["message"])
    else:
        response = jsonify(body)
        response.status_code = status
    for name, value in headers or []:
        response.headers[name] = value
    return response


def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    fields = parsing_fields(exc)
    if status == 422 and fields:
        message = "Some fields are not valid: " + ", ".join(sorted(fields))
    elif status == 413 and current_app.config.get("MAX_CONTENT_LENGTH"):
        message = f"The request body is larger than the {current_app.config['MAX_CONTENT_LENGTH']} bytes accepted."
    else:
        message = exc.description or CODES.get(status, "error")
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() in {"allow", "retry-after", "www-authenticate"}]
    return _response(status, error_body(status, message, fields=fields), headers)


def handle_service_error(exc: ServiceError):
    _roll_back()
    return _response(exc.status, error_body(exc.status, exc.message, code=exc.code, fields=exc.fields, extra=exc.extra),
                     getattr(exc, "headers", None))


def handle_changed_meanwhile(exc: Exception):
    """The database's version check (careplan.versions): another writer committed between our read and write."""
    _roll_back()
    return _response(409, error_body(409, CHANGED_MEANWHILE, code="changed_meanwhile"))


CHANGED_MEANWHILE = "Someone else changed this record at the same moment; nothing was saved. Read it again and retry."


# The database cannot be reached or gave up (connection refused or lost, a missing SQLite file, a lock held
# past the busy timeout): the request may be right and succeed later, so a 503, not a 500.
UNREACHABLE = (OperationalError, InterfaceError)
UNAVAILABLE = "The database does not answer; nothing was saved. Try again in a moment."
RETRY_AFTER_SECONDS = 30


# PostgreSQL gave up one of two transactions that waited for each other (SQLSTATE 40P01), or a serializable
# one that read what another changed (40001): the other went through, so this request met a concurrent
# change, not an absent database.
CONCURRENT_CHANGE_STATES = {"40P01", "40001"}


def handle_unavailable(exc: Exception):
    if getattr(getattr(exc, "orig", None), "sqlstate", None) in CONCURRENT_CHANGE_STATES:
        return handle_changed_meanwhile(exc)
    _roll_back()
    from careplan.access_log import redact

    log.error("the database does not answer on %s %s: %s", request.method, redact(request.path),
              type(getattr(exc, "orig", exc)).__name__)
    return _response(503, error_body(503, UNAVAILABLE, code="unavailable"), [("Retry-After", str(RETRY_AFTER_SECONDS))])


def handle_unexpected(exc: Exception):
    _roll_back()
    from careplan.access_log import redact

    log.exception("unhandled error on %s %s", request.method, redact(request.path))
    return _response(500, error_body(500, "Something went wrong on our side; the change was not saved."))


def _roll_back() -> None:
    from flask import current_app

    current_app.extensions[_ROLLBACK]()


def register(app: Flask, *, rollback: Callable[[], None]) -> None:
    """`rollback` undoes the request's unfinished database work before an error answers (create_app passes
    the database session's); taken as an argument so that this module, which the database layer imports
    for its error schema, imports nothing of it."""
    app.extensions[_ROLLBACK] = rollback
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(StaleDataError, handle_changed_meanwhile)
    for kind in UNREACHABLE:
        app.register_error_handler(kind, handle_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
