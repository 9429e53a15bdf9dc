"""A clinician's own pages: my day, my week, and the record of a patient on their care team."""
from __future__ import annotations

from flask import render_template

from careplan.auth.service import current_user
from careplan.clinic import service as clinic
from careplan.providers.service import get_provider
from careplan.web import bp, queries
from careplan.web.access import page_for, patient_in_reach
from careplan.web.desk import record_of, requested_day


@bp.get("/me/day")
@page_for("provider")
def my_day():
    provider = get_provider(current_user().provider_id)
    day = requested_day()
    appointments = queries.day_appointments(day, provider_id=provider.id)
    return render_template("web/me/day.html", provider=provider, day=day, today=queries.clinic_today(),
                           appointments=appointments, time_off=_time_off_on(provider, day, day))


@bp.get("/me/week")
@page_for("provider")
def my_week():
    provider = get_provider(current_user().provider_id)
    days = queries.week_of(requested_day())
    start, _ = clinic.local_day_bounds(days[0])
    _, end = clinic.local_day_bounds(days[-1])
    appointments = queries.appointments_between(start, end, provider_id=provider.id)
    by_day = {day: [a for a in appointments if clinic.to_local(a.starts_at).date() == day] for day in days}
    return render_template("web/me/week.html", provider=provider, days=days, by_day=by_day,
                           today=queries.clinic_today(), minutes=sum(a.minutes for a in appointments),
                           hours={d: [w for w in provider.availability if w.day == d] for d in range(7)},
                           time_off=_time_off_on(provider, days[0], days[-1]))


def _time_off_on(provider, first, last):
    start, _ = clinic.local_day_bounds(first)
    _, end = clinic.local_day_bounds(last)
    return [t for t in provider.time_off if t.starts_at < end and t.ends_at > start]


@bp.get("/me/patients/<int:patient_id>")
@page_for("provider")
def my_patient(patient_id: int):
    patient = patient_in_reach(patient_id)
    return render_template("web/me/patient.html", patient=patient, **record_of(patient))
