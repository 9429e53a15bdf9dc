"""A patient's own pages: upcoming appointments and the plan in plain words."""
from __future__ import annotations

from flask import render_template

from careplan.auth.service import current_user
from careplan.web import bp, queries
from careplan.web.access import page_for, patient_in_reach


@bp.get("/my/appointments")
@page_for("patient")
def my_appointments():
    patient = patient_in_reach(current_user().patient_id)
    return render_template("web/my/appointments.html", patient=patient,
                           visits=queries.visits(queries.upcoming_for_patient(patient.id)))


@bp.get("/my/plan")
@page_for("patient")
def my_plan():
    patient = patient_in_reach(current_user().patient_id)
    plans = queries.plans_of(patient.id, include_cancelled=False)
    team = queries.providers_by_id(m.provider_id for plan in plans for m in plan.care_team)
    return render_template("web/my/plan.html", patient=patient, plans=plans, team=team)


def how_often(line) -> str:
    """'2 sessions a week, 45 minutes each' — a session line as a patient would say it."""
    if line.every_weeks > 1:
        rhythm = f"{_times(line.per_week)} every {line.every_weeks} weeks"
    else:
        rhythm = f"{_times(line.per_week)} a week"
    return f"{rhythm}, {line.minutes} minutes each"


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


bp.add_app_template_filter(how_often, "how_often")
