"""The one decorator every API view wears: who may call it."""
from __future__ import annotations

from functools import wraps

from careplan.auth.service import current_user
from careplan.errors import Forbidden, Unauthenticated

STAFF = ("admin", "front_desk")


def login_required(*roles: str):
    """Refuse anonymous callers (401) and, when roles are given, callers of other roles (403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                raise Unauthenticated("Sign in, or send 'Authorization: Bearer <token>'.")
            if roles and user.role not in roles:
                raise Forbidden("Your role may not do this.")
            return view(*args, **kwargs)

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


def can_reach_patient(user, patient_id: int) -> bool:
    """Whether this user may see anything of this patient's record at all."""
    if user.role in STAFF:
        return True
    if user.role == "patient":
        return user.patient_id == patient_id
    if user.role == "provider":
        return on_care_team(user.provider_id, patient_id)
    return False


def reach_patient(patient_id: int) -> None:
    """404 (not 403) for a patient outside the caller's reach, so ids cannot be probed."""
    from careplan.errors import NotFound

    user = current_user()
    if user is None or not can_reach_patient(user, patient_id):
        raise NotFound(f"No patient {patient_id}.")
