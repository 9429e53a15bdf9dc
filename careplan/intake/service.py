"""Intake: what the patient reports, the red-flag screen, and a clinician's override of it."""
from __future__ import annotations

from sqlalchemy import func, select

from careplan.audit.service import record
from careplan.caller import Caller
from careplan.db import utcnow
from careplan.errors import Conflict, Invalid
from careplan.extensions import db
from careplan.intake.models import RED_FLAGS, REFERRAL_SIGNS, Intake
from careplan.patients.service import get_patient
from careplan.providers.models import Provider
from careplan.records import get_or_404


def derive_severity(answers: dict) -> str:
    """Worsening symptoms, pain of 8 or more, or a life the pain stops are severe; pain of 5 or more or a
    limited life moderate; the rest mild (domain.md: severity sets the length of care)."""
    if answers["worsening"] or answers["pain_score"] >= 8 or answers["daily_activities"] == "prevented":
        return "severe"
    if answers["pain_score"] >= 5 or answers["daily_activities"] == "limited":
        return "moderate"
    return "mild"


class RedFlag(Invalid):
    """The patient needs urgent medical care, not a care plan: nothing of a plan goes ahead."""

    code = "red_flag"


def red_flag_error(intake: Intake) -> RedFlag:
    reasons = [RED_FLAGS[name] for name in intake.positive_red_flags]
    return RedFlag(
        "Urgent medical care is needed, not a care plan: the screen found " + "; ".join(reasons)
        + ". Send the patient to a physician or an emergency department now. "
        f"The screen is recorded (intake {intake.id}); only a clinician may override it, with a written reason.",
        fields={f"red_flags.{name}": f"positive: {RED_FLAGS[name]}" for name in intake.positive_red_flags},
        extra={"intake_id": intake.id})


def record_intake(patient_id: int, data: dict, *, caller: Caller) -> Intake:
    """Record the intake; a positive red flag is recorded too, then refused with `red_flag`.

    The recorded screen is the one thing such a request writes: a red flag is a clinical fact the clinic
    must keep, whatever happens to the plan.
    """
    get_patient(patient_id)
    answers = data.get("severity_answers")
    intake = Intake(
        patient_id=patient_id, condition=data["condition"], region=data["region"], side=data["side"],
        symptoms=list(data["symptoms"]), severity=data.get("severity") or derive_severity(answers),
        severity_answers=dict(answers) if answers else None,
        pain_stress_or_insomnia=data["pain_stress_or_insomnia"], prefers_acupuncture=data["prefers_acupuncture"],
        preferences=data["preferences"], created_by_id=caller.user_id,
        **{name: data["red_flags"][name] for name in RED_FLAGS},
        **{name: data["referral_signs"].get(name, False) for name in REFERRAL_SIGNS})
    intake.screen_result = "red_flag" if intake.positive_red_flags else "clear"
    db.session.add(intake)
    db.session.flush()
    record("create", "intake", intake.id, patient_id, detail=f"screen {intake.screen_result}", caller=caller)
    db.session.commit()
    if intake.screen_result == "red_flag":
        raise red_flag_error(intake)
    return intake


def get_intake(intake_id: int) -> Intake:
    return get_or_404(Intake, intake_id, f"No intake {intake_id}.")


def list_intakes(patient_id: int):
    get_patient(patient_id)
    return select(Intake).where(Intake.patient_id == patient_id).order_by(Intake.created_at.desc(), Intake.id.desc())


def may_judge_red_flag(user, intake: Intake | None) -> bool:
    """Any active clinician of the clinic may read a red-flag screen and override it with a reason: the
    patient has no care team yet (the flag stops the plan that would make one). This opens the screen
    (and, once overridden, who decided, when and why) and nothing else of the patient's record."""
    if user is None or user.role != "provider" or intake is None or intake.screen_result == "clear":
        return False
    provider = db.session.get(Provider, user.provider_id)
    return provider is not None and provider.active


def _latest_screen():
    """The condition that an intake is its patient's latest screen (a newer one, asked again, settles it)."""
    newer = Intake.__table__.alias("newer")
    return ~select(newer.c.id).where(newer.c.patient_id == Intake.patient_id,
                                     (newer.c.created_at > Intake.created_at)
                                     | ((newer.c.created_at == Intake.created_at) & (newer.c.id > Intake.id))).exists()


def red_flags_waiting(patient_ids=None) -> list[Intake]:
    """Red flags no clinician has judged yet, oldest first: each patient's latest screen, when it is positive
    (a newer clear screen, asked again, has settled an older one). `patient_ids`: only these patients'."""
    query = select(Intake).where(Intake.screen_result == "red_flag", _latest_screen()).order_by(
        Intake.created_at, Intake.id)
    if patient_ids is not None:
        query = query.where(Intake.patient_id.in_(list(patient_ids)))
    return list(db.session.scalars(query))


def screens_for_the_desk() -> tuple[list[Intake], list[Intake]]:
    """In one statement, each patient's latest screen the desk acts on: red flags no clinician has judged yet,
    oldest first, and red flags judged with no care plan made since, whose next step is the plan (found in
    use: once the flag was judged, the desk was told nothing)."""
    from careplan.plans.models import CarePlan

    screens = list(db.session.scalars(select(Intake).where(
        _latest_screen(),
        (Intake.screen_result == "red_flag")
        | ((Intake.screen_result == "overridden")
           & ~select(CarePlan.id).where(CarePlan.patient_id == Intake.patient_id,
                                        CarePlan.created_at >= Intake.overridden_at).exists()))
        .order_by(Intake.created_at, Intake.id)))
    return ([s for s in screens if s.screen_result == "red_flag"],
            sorted((s for s in screens if s.screen_result == "overridden"), key=lambda s: (s.overridden_at, s.id)))


def overrider_name(intake: Intake) -> str | None:
    """Who overrode the red flag, as colleagues know them: the clinician's name, else the account's e-mail."""
    return overrider_names([intake]).get(intake.id)


def overrider_names(intakes: list[Intake]) -> dict[int, str]:
    """`overrider_name` of each intake judged by an account still there, in one statement whatever their number
    (the desk's Needs attention names every judged flag waiting for its plan)."""
    from careplan.auth.models import User

    by_user = {i.overridden_by_id for i in intakes if i.overridden_by_id is not None}
    if not by_user:
        return {}
    names = dict(db.session.execute(select(User.id, func.coalesce(Provider.name, User.email))
                                    .outerjoin(Provider, Provider.id == User.provider_id)
                                    .where(User.id.in_(by_user))).all())
    return {i.id: names[i.overridden_by_id] for i in intakes if i.overridden_by_id in names}


def override_red_flag(intake_id: int, reason: str, *, caller: Caller) -> Intake:
    """A clinician's written decision that care may go ahead; who, when and why are kept."""
    intake = get_intake(intake_id)
    if intake.screen_result != "red_flag":
        raise Conflict(f"Intake {intake_id} has no red flag to override (its screen is {intake.screen_result}).")
    intake.screen_result = "overridden"
    intake.override_reason = reason.strip()
    intake.overridden_at = utcnow()
    intake.overridden_by_id = caller.user_id
    record("update", "intake", intake.id, intake.patient_id, detail="red flag overridden", caller=caller)
    db.session.commit()
    return intake


def latest_intake(patient_id: int) -> Intake | None:
    return db.session.scalar(select(Intake).where(Intake.patient_id == patient_id)
                             .order_by(Intake.created_at.desc(), Intake.id.desc()).limit(1))


def standing_red_flag(patient_id: int) -> Intake | None:
    """The patient's latest screen when it is a red flag no clinician has overridden: it stops all care."""
    screen = latest_intake(patient_id)
    return screen if screen is not None and screen.screen_result == "red_flag" else None


def check_no_red_flag(patient_id: int, intake: Intake | None = None) -> None:
    """The one gate of every path to care: building a plan, proposing or re-planning its schedule, booking
    it or a session of it. The patient's latest screen decides (an older clear intake does not get around
    a newer red flag; a newer clear one, asked again, supersedes it), and so does the intake a plan is
    built from, when one is named. Only a clinician's override resolves a red flag."""
    if intake is not None and intake.screen_result == "red_flag":
        raise red_flag_error(intake)
    if (standing := standing_red_flag(patient_id)) is not None:
        raise red_flag_error(standing)


def intakes_of(patient_id: int) -> list[Intake]:
    return list(db.session.scalars(list_intakes(patient_id)))
