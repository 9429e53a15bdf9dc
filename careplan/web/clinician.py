"""A clinician's own pages: my day, my week, and the record of a patient on their care team."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from careplan.audit.service import patients_of, record_listed
from careplan.auth.edge import current_user, request_caller
from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.intake import service as intakes
from careplan.intake.models import RED_FLAGS
from careplan.notes import service as notes
from careplan.notes.schemas import SOAP, AmendmentSchema, NoteInSchema
from careplan.plans import service as plans
from careplan.plans.schemas import PhaseChangeSchema
from careplan.providers.service import get_provider
from careplan.web import bp
from careplan.web.rendering import discipline
from careplan.web.access import page_for, patient_in_reach
from careplan.web.calendar import LINK_QUERY
from careplan.web.desk import record_of, requested_day
from careplan.web.forms import CHANGED, form_version, submit, text
from careplan.scheduling import service as scheduling
from careplan.web import days as web_days


@bp.get("/me/day")
@page_for("provider", query=("day", *LINK_QUERY))
def my_day():
    provider = get_provider(current_user().provider_id)
    day = requested_day()
    appointments = scheduling.day_appointments(day, provider_id=provider.id)
    waiting = intakes.red_flags_waiting() if provider.active else []
    record_listed("appointment", appointments, caller=request_caller(),
                  patients=patients_of(appointments) + patients_of(waiting))
    return render_template("web/me/day.html", provider=provider, day=day, today=clinic.today(),
                           appointments=appointments, time_off=_time_off_on(provider, day, day),
                           red_flags_waiting=waiting,
                           # Their sessions show the mark, as the desk's calendar blocks do.
                           red_flag_patients={intake.patient_id for intake in waiting},
                           red_flags=RED_FLAGS)


@bp.get("/me/week")
@page_for("provider", query=("day",))
def my_week():
    provider = get_provider(current_user().provider_id)
    days = web_days.week_of(requested_day())
    start, _ = clinic.local_day_bounds(days[0])
    _, end = clinic.local_day_bounds(days[-1])
    appointments = scheduling.appointments_between(start, end, provider_id=provider.id)
    record_listed("appointment", appointments, caller=request_caller())
    by_day = {day: [a for a in appointments if clinic.to_local(a.starts_at).date() == day] for day in days}
    time_off = _time_off_on(provider, days[0], days[-1])
    # Each day's time off, as the day's card says it ("away all day"): the week's banner alone left each day
    # of a week away reading "08:00-16:00 · Nothing booked".
    bounds = {day: clinic.local_day_bounds(day) for day in days}
    away = {day: [t for t in time_off if t.starts_at < last and t.ends_at > first]
            for day, (first, last) in bounds.items()}
    all_day = {day: any(t.starts_at <= first and t.ends_at >= last for t in away[day])
               for day, (first, last) in bounds.items()}
    return render_template("web/me/week.html", provider=provider, days=days, by_day=by_day, away=away,
                           all_day=all_day,
                           today=clinic.today(), minutes=sum(a.minutes for a in appointments),
                           hours={d: [w for w in provider.availability if w.day == d] for d in range(7)},
                           time_off=time_off)


def _time_off_on(provider, first, last):
    start, _ = clinic.local_day_bounds(first)
    _, end = clinic.local_day_bounds(last)
    return [t for t in provider.time_off if t.starts_at < end and t.ends_at > start]


NOTE_LIMIT = 50


@bp.get("/me/patients")
@page_for("provider")
def my_patients():
    provider = get_provider(current_user().provider_id)
    mine = scheduling.patients_of_provider(provider.id)
    record_listed("patient", [patient for patient, _ in mine], caller=request_caller())
    return render_template("web/me/patients.html", provider=provider, patients=mine)


@bp.route("/me/patients/<int:patient_id>", methods=["GET", "POST"])
@page_for("provider")
def my_patient(patient_id: int, amend_errors: dict | None = None, phase_error: tuple | None = None):
    patient = patient_in_reach(patient_id)
    me = current_user()
    values, errors = {}, {}
    # A refused amendment shows this page with its error, without taking its form for a new note.
    if request.method == "POST" and amend_errors is None and phase_error is None:
        values = text(request.form, *SOAP, "discipline", "appointment_id", "visibility")
        data = {key: value for key, value in values.items() if value}
        note, errors = submit(NoteInSchema(), data, lambda loaded: notes.write_note(patient_id, loaded,
                                                                                    caller=request_caller()))
        if note is not None:
            flash(_saved_for(note), "success")
            return redirect(url_for("web.my_patient", patient_id=patient_id) + "#notes")
    shown = list(db.session.scalars(notes.list_notes(patient_id, caller=request_caller()).limit(NOTE_LIMIT)))
    # A clinician reading the team's notes is recorded, as on the API.
    record_listed("note", shown, patient_id, caller=request_caller())
    provider = get_provider(me.provider_id)
    record_data = record_of(patient)
    return render_template("web/me/patient.html", patient=patient, notes=shown, values=values, errors=errors,
                           amend_errors=amend_errors or {}, phase_error=phase_error,
                           stale_by_plan={plan.id: plans.stale_with_reasons(plan)
                                          for plan in record_data["plans"] if plan.status == "active"},
                           my_disciplines=provider.discipline_codes, soap=SOAP_PARTS,
                           visibility_labels=VISIBILITY_LABELS,
                           note_defaults=[(code, notes.default_visibility(code)) for code in provider.discipline_codes],
                           # A note is about a session that has begun (the record's past holds the one under
                           # way too), the latest first: the list opened on the plan's last session, months ahead.
                           my_appointments=[a for a in record_data["past"]
                                            if a.provider_id == provider.id and a.status != "cancelled"],
                           **record_data), 422 if errors or amend_errors or phase_error else 200


@bp.post("/me/plans/<int:plan_id>/phases")
@page_for("provider")
def my_plan_phase(plan_id: int):
    """Extend, shorten or advance a phase of an active plan (the API's change_phase); then the stale
    appointments show on the patient's page, with the re-plan one step away."""
    plan = plans.get_plan(plan_id)
    patient_in_reach(plan.patient_id)
    data = text(request.form, "change", "weeks", "reason")
    if data["change"] == "advance" or not data["weeks"]:
        data.pop("weeks")
    phase = request.form.get("phase", "")
    saved, errors = submit(PhaseChangeSchema(), data, lambda loaded: plans.change_phase(
        plan_id, phase, loaded, caller=request_caller(), expected_version=form_version(request.form)))
    if saved is None:
        message = errors.pop(CHANGED, None) or "; ".join(f"{k}: {v}" if k != "_form" else v for k, v in errors.items())
        return my_patient(plan.patient_id, phase_error=(plan_id, message))
    stale = plans.stale_appointments(saved)
    flash(f"The {phase} phase is changed (plan version {saved.version})."
          + (f" {len(stale)} appointment{'s' if len(stale) != 1 else ''} no longer fit the plan." if stale else ""),
          "success")
    return redirect(url_for("web.my_patient", patient_id=plan.patient_id) + f"#phases-{plan_id}")


@bp.post("/me/notes/<int:note_id>/amend")
@page_for("provider")
def my_note_amend(note_id: int):
    """A new version of one's own note (append-only: the earlier versions stay and are shown)."""
    note = notes.get_note(note_id)
    patient_in_reach(note.patient_id)
    if note.author_user_id != current_user().id:
        # The service's own refusal (audited), as the 403 page rather than a form error.
        notes.amend_note(note_id, {}, caller=request_caller())
    data = {key: value for key, value in text(request.form, *SOAP, "reason").items()}
    saved, errors = submit(AmendmentSchema(), data, lambda loaded: notes.amend_note(note_id, loaded,
                                                                                     caller=request_caller()))
    if saved is None:
        return my_patient(note.patient_id, amend_errors={note_id: "; ".join(errors.values())})
    flash(gettext("Note amended: version %(number)s.", number=saved.current.number), "success")
    return redirect(url_for("web.my_patient", patient_id=note.patient_id) + "#notes")


# Who reads a note, in the words of the form (careplan.clinic.models.NOTE_VISIBILITIES).
def _saved_for(note) -> str:
    """Who reads the note just saved, as its visibility says (a psychotherapy note is not the whole team's)."""
    if note.visibility == "author":
        return gettext("Note saved; only you see it.")
    if note.visibility == "discipline":
        return gettext("Note saved; the %(discipline)s clinicians on the care team see it now.",
                       discipline=discipline(note.discipline_code).lower())
    return gettext("Note saved; the care team sees it now.")


VISIBILITY_LABELS = {"team": "The whole care team", "discipline": "The clinicians of its discipline on the team",
                     "author": "Only you"}

# What each part of a SOAP note holds, as the form's hints say it.
SOAP_PARTS = [("subjective", "Subjective", "What the patient reports: pain, sleep, what helps, what hurts."),
              ("objective", "Objective", "What you measured or observed: range of motion, tests, strength."),
              ("assessment", "Assessment", "Your reading of it: progress, response to care."),
              ("plan", "Plan", "What happens next: exercises, changes, referrals.")]
