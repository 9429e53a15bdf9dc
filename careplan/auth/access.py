"""Who may call what. Every API view wears `login_required` as its OUTERMOST decorator:

    @login_required(*STAFF, "provider", patient="patient_id")
    @login_required("patient", patient=patient_of(Appointment, "appointment_id"))

Roles outside the list get 403 (the role itself may not do this). With `patient=`, the record's patient
must also be within the caller's reach, else 404 as if the record did not exist, so ids cannot be probed.
The reach check runs before the body is parsed, so an out-of-reach record answers 404 whatever is sent.
Every refusal is written to the audit trail. The decorators are the request edge (they read the request
through careplan.auth.edge); the reach rules below them take the user or caller as an argument.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from careplan.caller import Caller
from careplan.errors import Forbidden, NotFound, Unauthenticated

STAFF = ("admin", "front_desk")
ROLE_NAMES = ("admin", "front_desk", "provider", "patient")


# The audit trail names resources in the singular, whatever the blueprint or table is called, so that one
# search by resource finds the reads, the changes and the refusals alike.
_RESOURCE_NAMES = {"care_plans": "plan", "outbound_emails": "reminder", "protocol_templates": "protocol"}


def resource_name(name: str) -> str:
    """The audit trail's singular resource name for a blueprint or table name (`notes` -> `note`)."""
    return _RESOURCE_NAMES.get(name) or (name[:-1] if name.endswith("s") else name)


def _resource_of(view_args: dict, resource: str | None = None) -> tuple[str, str]:
    from flask import request

    return (resource or resource_name((request.endpoint or "").rsplit(".", 1)[0] or "api"),
            ",".join(str(v) for v in view_args.values()))


def patient_of(model, param: str, *, resource: str | None = None) -> Callable[[dict], int]:
    """For `login_required(patient=...)`: the patient of the `model` row whose id is the path's `param`
    (404 when there is none). `model` needs a `patient_id` column."""

    def find(view_args: dict) -> int:
        from careplan.extensions import db

        row = db.session.get(model, view_args[param])
        if row is None:
            _refuse_missing(resource or resource_name(model.__tablename__), view_args[param])
        return row.patient_id

    return find


def _refuse_missing(resource: str, record_id, patient_id: int | None = None, *, caller: Caller | None = None):
    from careplan.audit.service import note_denied

    if caller is None:
        from careplan.auth.edge import request_caller

        caller = request_caller()
    note_denied(resource, record_id, patient_id=patient_id, detail="not found or out of reach", caller=caller)
    raise NotFound(f"No {resource.replace('_', ' ')} {record_id}.")


def login_required(*roles: str, patient: str | Callable[[dict], int] | None = None, resource: str | None = None,
                   also: Callable[[object, dict], bool] | None = None):
    """Refuse anonymous callers (401), callers of other roles (403) and, with `patient`, records of a
    patient outside the caller's reach (404). `patient` is a path parameter naming the patient's id, or a
    function of the path parameters returning it (see `patient_of`). `resource` names what a refusal is
    audited as (default: the blueprint's name in the singular). `also(user, path parameters)` opens this
    one record to a caller outside the patient's reach when it answers True (e.g. a red-flag screen, which
    any active clinician may judge), without opening the rest of the record."""
    from careplan.audit.service import note_denied
    from careplan.auth.edge import current_user, request_caller

    unknown = set(roles) - set(ROLE_NAMES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                note_denied(*_resource_of(kwargs, resource), detail="not signed in", caller=request_caller())
                raise Unauthenticated("Sign in, or send 'Authorization: Bearer <token>'.")
            if roles and user.role not in roles:
                note_denied(*_resource_of(kwargs, resource), detail=f"role {user.role} may not",
                            caller=request_caller())
                raise Forbidden("Your role may not do this.")
            if patient is not None:
                patient_id = kwargs[patient] if isinstance(patient, str) else patient(kwargs)
                if not can_reach_patient(user, patient_id) and not (also is not None and also(user, kwargs)):
                    _refuse_missing(*_resource_of(kwargs, resource), patient_id)
            return view(*args, **kwargs)

        # Read by the OpenAPI document (careplan.api_docs): 401, 403 and 404 where they can happen.
        wrapped.careplan_access = {"roles": roles, "reach": patient is not None}
        return wrapped

    return decorator


def on_care_team(provider_id: int, patient_id: int) -> bool:
    """A provider is on a patient's care team through a plan line's team or an appointment with them."""
    from sqlalchemy import select

    from careplan.extensions import db
    from careplan.plans.models import CarePlan, CareTeamMember
    from careplan.scheduling.models import Appointment

    via_plan = select(CareTeamMember.id).join(CarePlan).where(
        CarePlan.patient_id == patient_id, CareTeamMember.provider_id == provider_id).limit(1)
    via_appointment = select(Appointment.id).where(
        Appointment.patient_id == patient_id, Appointment.provider_id == provider_id).limit(1)
    return db.session.scalar(via_plan) is not None or db.session.scalar(via_appointment) is not None


def care_team_patient_ids(provider_id: int):
    """The ids of the patients whose care team this provider is on, as a subquery for `.in_(...)`."""
    from sqlalchemy import select, union

    from careplan.plans.models import CarePlan, CareTeamMember
    from careplan.scheduling.models import Appointment

    return union(
        select(CarePlan.patient_id).join(CareTeamMember).where(CareTeamMember.provider_id == provider_id),
        select(Appointment.patient_id).where(Appointment.provider_id == provider_id))


def can_reach_patient(user, patient_id: int) -> bool:
    """Whether this user may see anything of this patient's record at all."""
    if user.role in STAFF:
        return True
    if user.role == "patient":
        return user.patient_id == patient_id
    if user.role == "provider":
        return on_care_team(user.provider_id, patient_id)
    return False


def reach_patient(patient_id: int, *, caller: Caller) -> None:
    """404 (not 403) for a patient outside the caller's reach, for checks inside a view or service."""
    if caller.user is None or not can_reach_patient(caller.user, patient_id):
        _refuse_missing("patient", patient_id, patient_id, caller=caller)

