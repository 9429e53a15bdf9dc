"""The OpenAPI document, completed in one place rather than route by route.

An apispec plugin (`OperationDocs`, added by `careplan.extensions.CareplanApi`) sees every operation as its
blueprint is registered, with the view behind it, and adds what the decorators already say:

* an `operationId` (the method and the view's name, e.g. `getProviderById`) unless the route names one;
* the error answers the operation can give, each with the one error schema and an example: 401 when it needs
  a caller (`login_required`, i.e. no `security: []`), 403 when only some roles may call it, 404 when it has
  path parameters or a patient's reach applies, 413 when it takes a body, 422 everywhere (unknown query
  parameters are refused on every operation), 503 everywhere (the database away);
* a description: the route's docstring body, then who may call it (from `login_required`) and how paging
  works, so every operation has one that says something true;
* the `Location` header on every 201 and 202, and `Link` (RFC 8288) beside `X-Pagination` on paged lists.

At run time, `located` sets the `Location` of a 201 and `add_link_header` the `Link` of a paged answer.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from apispec import BasePlugin

from careplan.errors import ErrorSchema

ROLE_LABELS = {"admin": "admins", "front_desk": "the front desk", "provider": "clinicians", "patient": "patients"}

# status -> (component name, description, example code, example message)
ERROR_RESPONSES = {
    401: ("Unauthenticated", "No caller: send `Authorization: Bearer <token>` (or sign in on the web).",
          "unauthenticated", "Sign in, or send 'Authorization: Bearer <token>'."),
    403: ("Forbidden", "The caller's role may not do this.", "forbidden", "Your role may not do this."),
    404: ("NotFound", "No such record, or one of a patient outside the caller's reach (the same answer, so ids "
                      "cannot be probed).", "not_found", "No patient 42."),
    409: ("Conflict", "The change conflicts with the current state (a time taken meanwhile, a record changed at "
                      "the same moment); nothing was saved.", "conflict", "The provider is busy then."),
    412: ("PreconditionFailed", "The record changed since the version the caller read (If-Match); nothing was "
                                "saved.", "precondition_failed", "The record changed since you read it."),
    413: ("TooLarge", "The request body is larger than MAX_CONTENT_LENGTH.", "too_large",
          "The request body is larger than the 2097152 bytes accepted."),
    422: ("Invalid", "A field, query parameter or the body is not valid; `fields` names each one.", "invalid",
          "Some fields are not valid: start"),
    429: ("TooManyRequests", "Too many requests; retry after `Retry-After` seconds.", "too_many_requests",
          "Too many failed sign-ins; try again in a minute."),
    503: ("Unavailable", "The database does not answer; nothing was saved. Retry after `Retry-After` seconds.",
          "unavailable", "The database does not answer; nothing was saved. Try again in a moment."),
}

# The same statuses on the pages behind e-mail links, in words for the patient's browser.
PAGE_ERRORS = {422: "The request is not valid", 503: "The database does not answer; try again in a moment"}

HEADERS = {
    "Location": {"description": "The URL of the record created (or, for 202, of the job to poll).",
                 "schema": {"type": "string", "format": "uri-reference"}},
    "Link": {"description": "RFC 8288 links to the `first`, `prev`, `next` and `last` pages (the same query with "
                            "another `page`), beside `X-Pagination`.",
             "schema": {"type": "string"},
             "example": '</api/v1/patients?page=3&page_size=10>; rel="next", '
                        '</api/v1/patients?page=1&page_size=10>; rel="first"'},
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}},
}


def error_example(status: int) -> dict:
    _, _, code, message = ERROR_RESPONSES[status]
    fields = {"start": "Not a valid datetime."} if status == 422 else {}
    return {"error": {"code": code, "message": message, "fields": fields, "request_id": "3f9c2a7d1b4e4c0a"}}


def register_components(spec) -> None:
    """The error responses and headers the operations refer to by name."""
    for name, header in HEADERS.items():
        spec.components.header(name, header)
    for status, (name, description, _, _) in ERROR_RESPONSES.items():
        response = {"description": description,
                    "content": {"application/json": {"schema": ErrorSchema, "example": error_example(status)}}}
        if status in (429, 503):
            response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
        spec.components.response(name, response)


def access_of(view) -> dict | None:
    """What `login_required` recorded on a view: {"roles": (...), "reach": bool}, or None without it."""
    return getattr(view, "careplan_access", None)


def operation_id(method: str, endpoint: str) -> str:
    name = endpoint.rsplit(".", 1)[-1]
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", name) if part)
    return method.lower() + name


def who_may_call(access: dict | None, security) -> str:
    if security == [] or access is None:
        return "**Who may call:** anyone holding the link's token; no sign-in." if security == [] else ""
    roles = access["roles"]
    who = ", ".join(ROLE_LABELS[r] for r in roles) if roles else "any signed-in user"
    sentence = f"**Who may call:** {who}."
    if access["reach"]:
        sentence += (" The patient must be within the caller's reach (staff: any; a clinician: the patients of "
                     "their care teams; a patient: their own record), else 404.")
    return sentence


PAGING = ("**Paging:** `page` (from 1) and `page_size` (at most 100); the totals come in `X-Pagination`, the "
          "neighbouring pages in `Link` (`first`, `prev`, `next`, `last`).")


class OperationDocs(BasePlugin):
    """Completes each operation of the document; see the module's docstring."""

    def __init__(self, api):
        self.api = api

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        self.spec = spec

    def _error_schema(self) -> dict:
        return self.api.ma_plugin.converter.resolve_nested_schema(ErrorSchema)

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        app = self.api._app
        view = app.view_functions.get(rule.endpoint)
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            view_class = getattr(view, "view_class", None)
            function = getattr(view_class, method, view)
            self._complete(operation, method, rule, access_of(function),
                           pages=bool(getattr(view_class, "answers_people", False)))

    def _complete(self, operation: dict, method: str, rule, access: dict | None, *, pages: bool = False) -> None:
        """`pages`: the view answers people's browsers (e-mail links), its errors are HTML pages."""
        operation.setdefault("operationId", operation_id(method, rule.endpoint))
        responses = operation["responses"] = {str(code): response
                                              for code, response in operation.get("responses", {}).items()}
        security = operation.get("security")
        statuses = {422, 503}
        if access is not None and security != []:
            statuses.add(401)
            if access["roles"]:
                statuses.add(403)
            if access["reach"]:
                statuses.add(404)
        if rule.arguments:
            statuses.add(404)
        if "requestBody" in operation:
            statuses.add(413)
        for status in sorted(statuses | {int(code) for code in responses if int_code(code) in ERROR_RESPONSES}):
            # A route's own alt_response (with its own description) stays; flask-smorest's generic one is
            # replaced by ours, which says what it means here and shows an example.
            current = responses.get(str(status))
            if isinstance(current, dict) and "$ref" not in current and not pages:
                # A route's own words for the status (`alt_response(409, description=...)`, with the error
                # schema or none): the body is still the one error format, and shows an example.
                body = current.setdefault("content", {}).setdefault("application/json", {})
                body.setdefault("schema", self._error_schema())
                body.setdefault("example", error_example(status))
                if status in (429, 503):
                    current.setdefault("headers", {}).setdefault("Retry-After", "Retry-After")
            if current is None or generic(current):
                responses[str(status)] = ERROR_RESPONSES[status][0] if not pages else {
                    "description": PAGE_ERRORS.get(status, ERROR_RESPONSES[status][1]) + " (a page saying so)",
                    "content": {"text/html": {"schema": {"type": "string"}}}}
        paged = False
        for status, response in responses.items():
            if not isinstance(response, dict):
                continue
            headers = response.setdefault("headers", {}) if status in ("201", "202") else response.get("headers")
            if status in ("201", "202"):
                headers.setdefault("Location", "Location")
            if headers and "X-Pagination" in headers:
                headers.setdefault("Link", "Link")
                paged = True
        parts = [operation.get("description", "").strip(), who_may_call(access, security), PAGING if paged else ""]
        operation["description"] = "\n\n".join(part for part in parts if part)


def int_code(code: str) -> int | None:
    return int(code) if str(code).isdigit() else None


def generic(response) -> bool:
    """flask-smorest's own response for a status (`#/components/responses/NOT_FOUND`), no description of ours."""
    from http import HTTPStatus

    reference = response if isinstance(response, str) else response.get("$ref", "")
    return reference.rsplit("/", 1)[-1] in HTTPStatus.__members__


# At run time ---------------------------------------------------------------------------------------------


def located(endpoint: str, **parameters: str) -> Callable:
    """For a view that answers 201: its `Location` is `url_for(endpoint, **parameters)`, each parameter taken
    from the answer's body by the key given (`proposal_id="id"`), or else from the view's own path
    parameter of that name. Goes under `login_required`, above the flask-smorest decorators."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from flask import url_for

            response = view(*args, **kwargs)
            if getattr(response, "status_code", None) in (201, 202) and "Location" not in response.headers:
                body = response.get_json(silent=True) or {}
                values = {name: body[key] if isinstance(body, dict) and key in body else kwargs[name]
                          for name, key in parameters.items()}
                response.headers["Location"] = url_for(endpoint, **values)
            return response

        wrapped.careplan_location = endpoint
        return wrapped

    return decorator


def add_link_header(response):
    """`Link: <...page=2...>; rel="next", ...` from flask-smorest's X-Pagination, on every paged answer."""
    from flask import request

    raw = response.headers.get("X-Pagination")
    if not raw or "Link" in response.headers:
        return response
    try:
        pages = json.loads(raw)
    except ValueError:
        return response
    query = request.args.to_dict(flat=False)
    links = []
    for relation, key in (("first", "first_page"), ("prev", "previous_page"), ("next", "next_page"),
                          ("last", "last_page")):
        if pages.get(key):
            query["page"] = [str(pages[key])]
            links.append(f'<{request.path}?{urlencode(query, doseq=True)}>; rel="{relation}"')
    if links:
        response.headers["Link"] = ", ".join(links)
    return response
