"""A patient's own pages: upcoming appointments and the plan in plain words."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext

from careplan.audit.service import record
from careplan.auth.edge import current_user, request_caller
from careplan.caller import Caller
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.errors import Conflict, Invalid, NotFound, ServiceError
from careplan.extensions import db
from careplan.fhir.feeds import icalendar_of
from careplan.portal import offers
from careplan.portal import service as portal
from careplan.reminders.messages import where
from careplan.scheduling import service as scheduling
from careplan.web import bp
from careplan.web.access import page_for, patient_in_reach
from careplan.web.rendering import clock, short_day
from careplan.plans import service as plan_service
from careplan.providers import service as providers
from careplan.web import days


@bp.get("/my/appointments")
@page_for("patient")
def my_appointments():
    patient = patient_in_reach(current_user().patient_id)
    visits = days.visits(scheduling.upcoming_for_patient(patient.id), video_apart=True)
    return render_template("web/my/appointments.html", patient=patient, weeks=_by_week(visits),
                           waiting_earlier=offers.open_requests(patient.id),
                           plan_openers=offers.plan_openers(patient.id),
                           unconfirmed=any(a.awaits_confirmation for v in visits for a in v.appointments),
                           late_hours=clinic.settings().late_cancel_hours, late_from=utcnow() + _late_window(),
                           where=where)


def _by_week(visits) -> list[tuple[date, list, bool]]:
    """(Monday, the week's trips, whether any session that week waits for a confirmation), in order."""
    weeks: dict[date, list] = {}
    for visit in visits:
        day = clinic.to_local(visit.arrives).date()
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(visit)
    return [(monday, trips, any(a.awaits_confirmation for v in trips for a in v.appointments))
            for monday, trips in weeks.items()]


def web_caller() -> Caller:
    return request_caller()


@bp.post("/my/appointments/confirm")
@page_for("patient")
def my_appointments_confirm():
    """The portal's "Confirm this week" and "Confirm all upcoming" buttons."""
    week_of = request.form.get("week_of", "")
    try:
        monday = date.fromisoformat(week_of) if week_of else None
    except ValueError:
        raise Invalid(gettext("Not a week."), fields={"week_of": "a date, YYYY-MM-DD"}) from None
    if monday is None and request.form.get("all_upcoming") != "1":
        raise Invalid(gettext("Say which appointments to confirm."), fields={"week_of": "a week, or all upcoming"})
    confirmed = portal.confirm_many(web_caller(), week_of=monday)
    if not confirmed:
        flash(gettext("There was nothing left to confirm."), "success")
    else:
        flash(ngettext("Thank you: %(num)d session confirmed.", "Thank you: %(num)d sessions confirmed.",
                       len(confirmed)), "success")
    return redirect(url_for("web.my_appointments"))


def _late_window() -> timedelta:
    return timedelta(hours=clinic.settings().late_cancel_hours)


def _my_appointment(appointment_id: int):
    """One of my own appointments, or the 404 page (another patient's ids cannot be probed)."""
    me = current_user()
    appointment = scheduling.find_appointment(appointment_id)
    if appointment is None or appointment.patient_id != me.patient_id:
        raise NotFound(f"No appointment {appointment_id}.")
    return appointment


@bp.post("/my/appointments/<int:appointment_id>/confirm")
@page_for("patient")
def my_appointment_confirm(appointment_id: int):
    _my_appointment(appointment_id)
    try:
        appointment = scheduling.update_appointment(appointment_id, {"status": "confirmed"}, caller=request_caller())
    except ServiceError as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash(gettext("Thank you: your session of %(day)s at %(time)s is confirmed.",
                      day=short_day(appointment.starts_at), time=clock(appointment.starts_at)), "success")
    return redirect(url_for("web.my_appointments"))


@bp.route("/my/appointments/<int:appointment_id>/cancel", methods=["GET", "POST"])
@page_for("patient")
def my_appointment_cancel(appointment_id: int):
    appointment = _my_appointment(appointment_id)
    errors = {}
    reason = request.form.get("reason", "").strip()
    if request.method == "POST":
        try:
            scheduling.update_appointment(appointment_id, {"status": "cancelled", "reason": reason},
                                          caller=request_caller())
        except ServiceError as refused:
            db.session.rollback()
            errors = {"_form": refused.message}
        else:
            flash(gettext("Your appointment is cancelled. It was a late cancellation.") if appointment.late_cancellation
                  else gettext("Your appointment is cancelled."), "success")
            return redirect(url_for("web.my_appointments"))
    late = scheduling.late_cancellation(appointment, utcnow())
    record("read", "appointment", appointment.id, appointment.patient_id, detail=f"page {request.path}",
           caller=request_caller())
    return render_template("web/my/cancel.html", appointment=appointment, late=late, reason=reason, errors=errors,
                           late_hours=clinic.settings().late_cancel_hours), 409 if errors else 200


@bp.get("/my/appointments.ics")
@page_for("patient")
def my_appointments_ics():
    patient = patient_in_reach(current_user().patient_id)
    body = icalendar_of(scheduling.upcoming_for_patient(patient.id), patient.name, for_provider=False, now=utcnow())
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="my-appointments.ics"'})


@bp.get("/my/plan")
@page_for("patient")
def my_plan():
    patient = patient_in_reach(current_user().patient_id)
    plans = plan_service.plans_of(patient.id, include_cancelled=False)
    team = providers.providers_by_id(m.provider_id for plan in plans for m in plan.care_team)
    return render_template("web/my/plan.html", patient=patient, plans=plans, team=team)


def how_often(line) -> str:
    """'2 sessions a week, 45 minutes each' — a session line as a patient would say it."""
    if line.every_weeks > 1:
        rhythm = gettext("%(times)s every %(weeks)s weeks", times=_times(line.per_week), weeks=line.every_weeks)
    else:
        rhythm = gettext("%(times)s a week", times=_times(line.per_week))
    return gettext("%(rhythm)s, %(minutes)s minutes each", rhythm=rhythm, minutes=line.minutes)


def _times(count: int) -> str:
    if count == 1:
        return gettext("once")
    if count == 2:
        return gettext("twice")
    return gettext("%(count)s times", count=count)


bp.add_app_template_filter(how_often, "how_often")


@bp.route("/my/appointments/<int:appointment_id>/move", methods=["GET", "POST"])
@page_for("patient")
def my_appointment_move(appointment_id: int):
    """"I can't make it": the best alternatives for this session; choosing one moves it."""
    me = web_caller()
    patient_id = portal.patient_id_of(me)
    notice, status = None, 200
    if request.method == "POST":
        choice = move_choice(request.form)
        try:
            moved = portal.move_to_alternative(me, appointment_id, patient_id=patient_id, **choice)
        except Conflict as refused:
            # Taken a moment ago (the page then shows the fresh alternatives), changed, or now too late.
            db.session.rollback()
            notice, status = refused.message, 409
        else:
            flash(gettext("Done: your session is now on %(day)s at %(time)s.", day=short_day(moved.starts_at),
                          time=clock(moved.starts_at)), "success")
            return redirect(url_for("web.my_appointments"))
    options = portal.alternatives_for(appointment_id, patient_id=patient_id)
    record("read", "appointment", appointment_id, patient_id, detail=f"page {request.path}", caller=me)
    return render_template("web/my/move.html", options=options, notice=notice, action=request.path,
                           back="/my/appointments"), status


def move_choice(form) -> dict:
    """The chosen alternative from the page's form (each option is its own small form)."""
    try:
        choice = {"provider_id": int(form.get("provider_id", "")), "start": datetime.fromisoformat(form.get("start", "")),
                  "sequence": int(form.get("sequence", ""))}
    except ValueError:
        choice = None
    # The page writes times with their offset; one without cannot be compared with any appointment.
    if choice is None or choice["start"].tzinfo is None:
        raise Invalid(gettext("Choose one of the times shown."),
                      fields={"start": "provider_id, start (with its offset) and sequence of an alternative"})
    return choice


@bp.post("/my/appointments/<int:appointment_id>/earlier")
@page_for("patient")
def my_appointment_earlier(appointment_id: int):
    """"Tell me if an earlier time opens": a cancellation then offers its time by e-mail."""
    me = web_caller()
    asked = offers.ask_for_earlier(me, appointment_id, patient_id=portal.patient_id_of(me))
    if offers.opens_a_plan(asked.appointment):
        flash(gettext("We will e-mail you if an earlier time opens to start your care sooner."), "success")
    else:
        flash(gettext("We will e-mail you if an earlier time opens for this session."), "success")
    return redirect(url_for("web.my_appointments"))

