"""Who may open a page: the page counterpart of `careplan.auth.access.login_required`."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from flask import redirect, request
from flask_babel import gettext

from careplan.audit.service import note_denied, record
from careplan.auth.access import can_reach_patient
from careplan.auth.edge import current_user, request_caller
from careplan.errors import Forbidden, NotFound
from careplan.page_query import QUERY_ATTRIBUTE

LOGIN_PATH = "/login"

def login_redirect():
    """Back to this page after signing in; only a local path is carried, never a full URL."""
    here = request.full_path.rstrip("?") if request.query_string else request.path
    return redirect(f"{LOGIN_PATH}?{urlencode({'next': here})}")


def page_for(*roles: str, query: tuple[str, ...] = ()):
    """Anonymous visitors go to the sign-in page; other roles get the 403 page. Wear it outermost.
    `query` names the query parameters the page takes; any other answers the 400 page (refuse_unknown_query)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                # A redirect is no failed request, so the refusal is recorded here rather than noted.
                record("denied", "page", "", detail=f"not signed in ({request.method} {request.path})"[:400],
                       caller=request_caller())
                return login_redirect()
            if roles and user.role not in roles:
                note_denied("page", detail=f"role {user.role} may not", caller=request_caller())
                raise Forbidden(gettext("Signed in as %(email)s, you cannot open this page.", email=user.email))
            return view(*args, **kwargs)

        setattr(wrapped, QUERY_ATTRIBUTE, frozenset(query))
        return wrapped

    return decorator


def patient_in_reach(patient_id: int):
    """The patient, or the 404 page when they are outside the visitor's reach (ids cannot be probed).
    The page that asks shows the patient's record, so the read is audited here."""
    from careplan.extensions import db
    from careplan.patients.models import Patient

    patient = db.session.get(Patient, patient_id)
    if patient is None or not can_reach_patient(current_user(), patient_id):
        note_denied("patient", patient_id, patient_id=patient_id if patient else None,
                    detail="not found or out of reach", caller=request_caller())
        raise NotFound(f"No patient {patient_id}.")
    record("read", "patient", patient_id, patient_id, detail=f"page {request.path}", caller=request_caller())
    return patient
