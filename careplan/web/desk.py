"""The front desk: today at a glance, finding and admitting patients, a patient's record."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from careplan.audit.service import patients_of, record, record_listed
from careplan.auth.access import STAFF
from careplan.auth.edge import request_caller
from careplan.extensions import db
from careplan.patients import service as patients
from careplan.patients.schemas import PatientSchema
from careplan.reminders import service as reminders
from careplan.rooms import service as rooms
from careplan.scheduling import attention
from careplan.web import bp
from careplan.page_query import query_date
from careplan.web.access import page_for
from careplan.web.forms import CHANGED, WindowRows, form_version, submit, text
from careplan.clinic import service as clinic
from careplan.intake import service as intakes
from careplan.intake.models import RED_FLAGS
from careplan.plans import service as plan_service
from careplan.portal import service as portal
from careplan.providers import service as providers
from careplan.scheduling import service as scheduling
from careplan.web import days

SEARCH_LIMIT = 50


def requested_day() -> date:
    """?day=YYYY-MM-DD, else today in the clinic (a day that is not a date answers the 400 page)."""
    return query_date("day") or clinic.today()


@bp.get("/desk")
@page_for(*STAFF, query=("day",))
def desk_today():
    day = requested_day()
    appointments = scheduling.day_appointments(day)
    waiting, failed = plan_service.plans_waiting(), reminders.failed_emails()
    # The day list, the plans waiting and the failed e-mails all name patients: one read names them all.
    record("read", "page", "", detail=f"desk day {day.isoformat()}: {len(appointments)} sessions",
           caller=request_caller(), patients=patients_of(appointments) + [patient.id for _, patient in waiting]
           + patients_of(failed))
    columns = days.by_provider(appointments)
    return render_template("web/desk/today.html", day=day, today=clinic.today(),
                           columns=columns, visits=days.visits(appointments, in_person_only=True),
                           by_video=[a for a in appointments if a.virtual],
                           waiting=waiting, session_count=len(appointments),
                           # A clinician off sick keeps a column for the sessions to move, but is not busy.
                           busy_count=sum(1 for _, theirs in columns if not all(a.needs_new_time for a in theirs)),
                           failed_emails=failed, email_kinds=EMAIL_KINDS,
                           flagged_count=attention.flagged_count(),
                           # Said on each arrival, as the calendar's blocks say it.
                           red_flag_patients={screen.patient_id for screen in intakes.red_flags_waiting()})


@bp.get("/desk/flagged")
@page_for(*STAFF)
def desk_flagged():
    """Booked appointments a change of hours or time off left outside them, with the next step for each:
    move it, or re-plan the plan it belongs to (for an absence, the absence's re-plan)."""
    flagged = attention.flagged_list()
    record_listed("appointment", flagged, caller=request_caller())
    absences = {a.id: attention.absence_over(a) for a in flagged}
    return render_template("web/desk/flagged.html", flagged=flagged, absences=absences)


EMAIL_KINDS = {"reminder": "Reminder", "booking-confirmation": "Booking confirmation",
               "cancellation": "Cancellation notice", "reschedule": "Change of time",
               "slot-offer": "Earlier time offered", "slot-gone": "Earlier time gone", "video-link": "Video link"}


@bp.post("/desk/emails/<int:email_id>/retry")
@page_for(*STAFF)
def desk_email_retry(email_id: int):
    email = reminders.retry_email(email_id, caller=request_caller())
    flash(gettext("The e-mail to %(name)s will be sent again in a moment.", name=email.patient.name), "success")
    return redirect(url_for("web.desk_today") + "#failed-emails")


@bp.get("/desk/patients")
@page_for(*STAFF, query=("q",))
def desk_patients():
    q = request.args.get("q", "").strip()[:100]
    found = list(db.session.scalars(patients.list_patients(q=q or None).limit(SEARCH_LIMIT + 1)))
    record_listed("patient", found[:SEARCH_LIMIT], caller=request_caller())
    return render_template("web/desk/patients.html", q=q, found=found[:SEARCH_LIMIT],
                           more=len(found) > SEARCH_LIMIT)


def _patient_form(form) -> tuple[dict, WindowRows]:
    windows = WindowRows.from_form(form)
    data = text(form, "name", "email", "phone")
    data["date_of_birth"] = form.get("date_of_birth", "").strip() or None
    data["reminder_opt_out"] = form.get("reminder_opt_out") == "on"
    data["max_sessions_per_day"] = form.get("max_sessions_per_day", "").strip() or None
    # Empty: the clinic's default language.
    data["language"] = form.get("language") or None
    data["availability"] = windows.as_data()
    # Video consent and the sites they come to (issue 20): the boxes are there when the clinic has sites.
    data["accepts_virtual"] = form.get("accepts_virtual") == "on"
    if form.get("locations_shown") == "on":
        data["location_ids"] = [value for value in form.getlist("location_ids") if value]
    return data, windows


def _sites_error(errors: dict) -> dict:
    """An error about one of the ticked sites (location_ids[0]) is shown on the sites' fieldset."""
    out = {}
    for key, message in errors.items():
        out["location_ids" if key.startswith("location_ids") else key] = message
    return out


@bp.route("/desk/patients/new", methods=["GET", "POST"])
@page_for(*STAFF)
def desk_patient_new():
    data, windows, errors = {}, WindowRows([]), {}
    if request.method == "POST":
        data, windows = _patient_form(request.form)
        patient, errors = submit(PatientSchema(), data, lambda loaded: patients.create_patient(loaded,
                                                                                               caller=request_caller()))
        errors = _sites_error(errors)
        if patient is not None:
            flash(gettext("%(name)s is admitted.", name=patient.name), "success")
            return redirect(url_for("web.desk_patient", patient_id=patient.id))
    return render_template("web/desk/patient_new.html", values=data, windows=windows.with_blanks(),
                           errors=errors, locations=rooms.list_locations(include_inactive=False)), \
        422 if errors else 200


@bp.route("/desk/patients/<int:patient_id>", methods=["GET", "POST"])
@page_for(*STAFF)
def desk_patient(patient_id: int):
    patient = patients.get_patient(patient_id)
    errors, changed = {}, False
    if request.method == "POST":
        data, windows = _patient_form(request.form)
        version = form_version(request.form)
        saved, errors = submit(PatientSchema(), data, lambda loaded: patients.update_patient(
            patient_id, loaded, caller=request_caller(), expected_version=version))
        errors = _sites_error(errors)
        if saved is not None:
            flash(gettext("Changes saved."), "success")
            return redirect(url_for("web.desk_patient", patient_id=patient_id))
        changed = errors.pop(CHANGED, None) is not None
    if request.method == "GET" or changed:
        # The record as it is now (after someone else's change, the one the visitor edits next).
        patient = patients.get_patient(patient_id)
        data = {"name": patient.name, "email": patient.email, "phone": patient.phone,
                "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else "",
                "reminder_opt_out": patient.reminder_opt_out,
                "max_sessions_per_day": patient.max_sessions_per_day, "language": patient.language or "",
                "accepts_virtual": patient.accepts_virtual, "location_ids": patient.location_ids}
        windows, version = WindowRows.from_windows(patient.availability), patient.version
        record("read", "patient", patient.id, patient.id, detail=f"page {request.path}", caller=request_caller())
    return render_template("web/desk/patient.html", patient=patient, values=data, version=version, changed=changed,
                           windows=windows.with_blanks(), errors=errors,
                           locations=rooms.list_locations(include_inactive=False), **record_of(patient)), \
        409 if changed else 422 if errors else 200


def record_of(patient) -> dict:
    """A patient's plans and appointments, for the desk's record and the care team's view alike."""
    plans = plan_service.plans_of(patient.id)
    team = providers.providers_by_id(m.provider_id for plan in plans for m in plan.care_team)
    red_flag = intakes.standing_red_flag(patient.id)
    return {"plans": plans, "team": team, "upcoming": scheduling.upcoming_for_patient(patient.id),
            "intakes": intakes.intakes_of(patient.id), "red_flag": red_flag,
            "red_flag_signs": [RED_FLAGS[name] for name in red_flag.positive_red_flags] if red_flag else [],
            "past": scheduling.past_for_patient(patient.id), "moves": portal.moves_by_patient(patient.id)}
