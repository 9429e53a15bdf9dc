"""The FHIR R4 read API under /fhir: its own wire format, so a plain blueprint rather than flask-smorest.

Errors here are OperationOutcomes, not the JSON API's error body: the
blueprint's own handlers win over the application's for every request routed
to it, and a catch-all route keeps unknown paths and methods under /fhir too.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, request, url_for
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotAcceptable, NotFound as HTTPNotFound

from careplan.audit.service import note_denied, record
from careplan.auth.edge import current_user, request_caller
from careplan.errors import NotFound, ServiceError, Unauthenticated
from careplan.extensions import db
from careplan.fhir import capability
from careplan.fhir.search import Query
from careplan.fhir.service import RESOURCE_TYPES

bp = Blueprint("fhir", __name__, url_prefix="/fhir")

FHIR_JSON = "application/fhir+json"
_JSON_FORMATS = {"json", FHIR_JSON, "application/json", "application/json+fhir"}

# FHIR's issue types for our error statuses.
ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
               406: "not-supported", 409: "conflict", 422: "processing", 429: "throttled", 500: "exception"}


def fhir_response(resource: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(resource, ensure_ascii=False), status=status, mimetype=FHIR_JSON,
                    headers=headers or {})


def operation_outcome(status: int, message: str, fields: dict | None = None, code: str | None = None) -> dict:
    from careplan.operations.logs import current_request_id

    # The request id, as on the log lines and in X-Request-ID: what a client quotes to the clinic's IT.
    request_id = current_request_id()
    if request_id:
        message = f"{message} (request id {request_id})"
    issues = [{"severity": "error", "code": code or ISSUE_CODES.get(status, "processing"), "diagnostics": message}]
    issues += [{"severity": "error", "code": code or ISSUE_CODES.get(status, "processing"),
                "diagnostics": f"{name}: {problem}", "expression": [name]} for name, problem in (fields or {}).items()]
    return {"resourceType": "OperationOutcome", "issue": issues}


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    db.session.rollback()
    code = "too-costly" if exc.code == "too_costly" else None
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    return fhir_response(operation_outcome(exc.status, exc.message, exc.fields, code), exc.status, headers)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    return fhir_response(operation_outcome(exc.code or 500, exc.description or "error"), exc.code or 500, headers)


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def _unavailable(exc: Exception):
    from careplan.errors import UNAVAILABLE, handle_unavailable

    answer = handle_unavailable(exc)
    return fhir_response(operation_outcome(503, UNAVAILABLE, code="transient"), 503,
                         {"Retry-After": answer.headers["Retry-After"]})


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    from careplan.errors import handle_unexpected

    handle_unexpected(exc)
    return fhir_response(operation_outcome(500, "Something went wrong on our side."), 500)


@bp.before_request
def _json_only():
    """FHIR JSON only: `_format` or Accept asking for anything else (XML, Turtle) is 406."""
    wanted = request.args.get("_format")
    if wanted is not None and wanted not in _JSON_FORMATS:
        raise NotAcceptable(f"Only JSON is served ({FHIR_JSON}); _format={wanted} is not.")
    if wanted is None and request.accept_mimetypes and request.accept_mimetypes.best_match(
            [FHIR_JSON, "application/json"]) is None:
        raise NotAcceptable(f"Only JSON is served; send Accept: {FHIR_JSON}.")


# Resource types that carry a patient's record: reading or searching them is audited.
PATIENT_DATA = {"Patient", "Appointment", "CarePlan", "CareTeam"}


def _caller(resource_type: str, resource_id: str = ""):
    user = current_user()
    if user is None:
        note_denied(f"fhir:{resource_type}", resource_id, detail="not signed in", caller=request_caller())
        raise Unauthenticated("Send 'Authorization: Bearer <token>'.")
    return user


def _patient_id(resource: dict) -> int | None:
    """The patient a resource is about: itself, its subject, or its patient participant."""
    if resource["resourceType"] == "Patient":
        return int(resource["id"])
    references = [resource.get("subject", {})] + [p.get("actor", {}) for p in resource.get("participant", [])]
    for ref in references:
        if ref.get("reference", "").startswith("Patient/"):
            return int(ref["reference"].split("/", 1)[1])
    return None


def _resource_type(name: str):
    kind = RESOURCE_TYPES.get(name)
    if kind is None:
        raise HTTPNotFound(f"Resource type '{name}' is not served here; see /fhir/metadata.")
    return kind


@bp.get("/metadata")
def metadata():
    # Public, as FHIR expects: it says what the server does, nothing about anyone.
    return fhir_response(capability.statement(RESOURCE_TYPES, url_for("fhir.metadata", _external=True)))


@bp.get("/<resource_type>")
def search(resource_type: str):
    user = _caller(resource_type)
    kind = _resource_type(resource_type)
    query = Query(request.args, kind.params)
    page = kind.search(query, user)
    if resource_type in PATIENT_DATA:
        found = ",".join(r["id"] for r in page.resources)
        patients = {_patient_id(r) for r in page.resources}
        record("read", f"fhir:{resource_type}", "", next(iter(patients)) if len(patients) == 1 else None,
               detail=f"searched {request.query_string.decode()[:150]}: {found}", caller=request_caller(),
               patients=patients)
    return fhir_response(_bundle(resource_type, query, page))


@bp.get("/<resource_type>/<resource_id>")
def read(resource_type: str, resource_id: str):
    user = _caller(resource_type, resource_id)
    kind = _resource_type(resource_type)
    try:
        resource = kind.read(resource_id, user)
    except NotFound:
        # Missing and out of reach look the same to the caller; the trail keeps the attempt.
        note_denied(f"fhir:{resource_type}", resource_id[:40], detail="not found or out of reach",
                    caller=request_caller())
        raise
    if resource_type in PATIENT_DATA:
        record("read", f"fhir:{resource_type}", resource_id, _patient_id(resource), caller=request_caller())
    return fhir_response(resource)


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def elsewhere(rest: str):
    if request.method != "GET":
        raise MethodNotAllowed(["GET"], "This FHIR server is read-only.")
    raise HTTPNotFound(f"Nothing at /fhir/{rest}; see /fhir/metadata.")


def _bundle(resource_type: str, query: Query, page) -> dict:
    def link(offset: int) -> str:
        args = {k: request.args.getlist(k) for k in request.args if k not in ("_offset", "_count")}
        return url_for("fhir.search", resource_type=resource_type, _external=True,
                       **args, _count=query.count, _offset=offset)

    links = [{"relation": "self", "url": link(query.offset)}]
    if query.offset + query.count < page.total:
        links.append({"relation": "next", "url": link(query.offset + query.count)})
    if query.offset > 0:
        links.append({"relation": "previous", "url": link(max(0, query.offset - query.count))})
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": page.total, "link": links}
    if page.resources:
        # FHIR JSON has no empty arrays: an empty result has no `entry` at all.
        bundle["entry"] = [
            {"fullUrl": url_for("fhir.read", resource_type=r["resourceType"], resource_id=r["id"], _external=True),
             "resource": r, "search": {"mode": "match"}} for r in page.resources]
    return bundle
