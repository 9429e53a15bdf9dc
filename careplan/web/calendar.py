"""The clinic calendar: the front desk's day as a grid, a clinician's week, booking from a free cell, the
appointment's day (check in, no-show, completed, cancel) and moving it with a preview of what changes."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from careplan.auth.access import STAFF
from careplan.auth.edge import current_user, request_caller
from careplan.calendar import rooms as calendar_rooms, service as calendar
from careplan.clinic import service as clinic
from careplan.errors import ServiceError
from careplan.extensions import db
from careplan.intake.models import RED_FLAGS
from careplan.intake.service import standing_red_flag
from careplan.page_query import local_path, query_date, query_int, with_query
from careplan.providers.service import get_provider
from careplan.rooms import service as rooms
from careplan.scheduling import service as scheduling
from careplan.scheduling.schemas import AppointmentChangeSchema, BookingSchema
from careplan.web import bp
from careplan.web.access import page_for, patient_in_reach
from careplan.web.forms import input_errors, load, local_input, local_moment
from careplan.web.rendering import clock, discipline_labels, discipline_tints, short_day
from careplan.providers import service as providers

# Lengths offered on the booking form; any other whole number of minutes can be typed.
COMMON_LENGTHS = (30, 45, 50, 60, 90)


def _calendar_day() -> date:
    """?date=YYYY-MM-DD, else today in the clinic (a date that is not one answers the 400 page)."""
    return query_date("date") or clinic.today()


def _offset(day: date) -> str:
    """The clinic's UTC offset on that day ("-05:00"), so the component's now line is the clinic's now."""
    offset = clinic.to_local(clinic.local_datetime(day, datetime.min.time().replace(hour=12))).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


@bp.get("/desk/calendar")
@page_for(*STAFF, query=("date", "discipline", "provider", "location", "page"))
def desk_calendar():
    day = _calendar_day()
    # A discipline the clinic does not give is the calendar service's 422, naming it.
    discipline = request.args.get("discipline") or None
    week_of = query_int("provider")
    if week_of is not None:
        week = calendar.week_grid(week_of, day)
        return render_template("web/desk/calendar_week.html", week=week, day=day, today=clinic.today(),
                               offset=_offset(day), tints=discipline_tints(), session_label=calendar.session_label,
                               labels=discipline_labels())
    grid = calendar.day_grid(day, discipline=discipline, location_id=query_int("location"),
                             page=query_int("page") or 1)
    return render_template("web/desk/calendar.html", grid=grid, day=day, today=clinic.today(),
                           discipline=discipline, disciplines=clinic.disciplines(), offset=_offset(day),
                           attention=calendar.needs_attention(), session_label=calendar.session_label,
                           tints=discipline_tints(), labels=discipline_labels(),
                           locations=rooms.list_locations(include_inactive=False),
                           per_page=calendar.COLUMNS_PER_PAGE)


@bp.get("/desk/calendar/rooms")
@page_for(*STAFF, query=("date", "location"))
def desk_calendar_rooms():
    """One location's day, room by room (issue 20): who holds each room when."""
    day = _calendar_day()
    locations = rooms.list_locations(include_inactive=False)
    chosen = query_int("location")
    if chosen is None and locations:
        chosen = locations[0].id
    view = calendar_rooms.rooms_day(day, chosen) if chosen is not None else None
    return render_template("web/desk/calendar_rooms.html", view=view, day=day, today=clinic.today(),
                           locations=locations, session_label=calendar.session_label, labels=discipline_labels())


# --- booking a single visit from a free cell ---------------------------------------------------------------


# The booking form's inputs; a link from a free cell fills some of them in its query.
BOOKING_FIELDS = ("provider", "start", "q", "patient_id", "discipline", "minutes", "session", "virtual", "video_link")


def _booking_values(source) -> dict:
    return {key: source.get(key, "").strip() for key in BOOKING_FIELDS}


@bp.route("/desk/appointments/new", methods=["GET", "POST"])
@page_for(*STAFF, query=BOOKING_FIELDS)
def desk_appointment_new():
    values = _booking_values(request.form if request.method == "POST" else request.args)
    errors: dict[str, str] = {}
    provider = None
    if values["provider"].isdigit():
        provider = get_provider(int(values["provider"]))
    if request.method == "GET" and not values["start"]:
        values["start"] = local_input(None)
    if provider is not None and not values["discipline"] and provider.discipline_codes:
        values["discipline"] = provider.discipline_codes[0]
    found = calendar.find_patients(values["q"]) if values["q"] else []
    patient = None
    if values["patient_id"].isdigit():
        patient = patient_in_reach(int(values["patient_id"]))
    sessions = calendar.unscheduled_sessions(patient.id) if patient is not None else []
    # A red flag no clinician has judged: plan sessions are refused, a single visit stays the desk's call,
    # made knowingly.
    red_flag = standing_red_flag(patient.id) if patient is not None else None
    drafts = calendar.plans_to_schedule(patient.id) if patient is not None else []
    try:
        start = datetime.fromisoformat(local_moment(values["start"]) or "")
    except ValueError:
        start = None
    minutes = int(values["minutes"]) if values["minutes"].isdigit() and len(values["minutes"]) < 5 else 45
    outside_hours = calendar.outside_patient_hours(patient, start, minutes)
    if request.method == "POST" and request.form.get("book"):
        booking = {"patient_id": values["patient_id"], "provider_id": values["provider"],
                   "discipline": values["discipline"], "start": local_moment(values["start"]),
                   "minutes": values["minutes"], "kind": "treatment", "virtual": values["virtual"] == "on"}
        if values["video_link"]:
            booking["video_link"] = values["video_link"]
        chosen = next((s for s in sessions if _session_key(s) == values["session"]), None)
        if chosen is not None:
            booking.update(plan_id=chosen["plan_id"], phase=chosen["phase"], week=chosen["week"],
                           discipline=chosen["discipline"], kind=chosen["kind"])
        loaded, errors = load(BookingSchema(), booking)
        if loaded is not None:
            try:
                booked = scheduling.book_appointment(loaded, caller=request_caller())
            except ServiceError as refused:
                db.session.rollback()
                # A conflict or a broken rule is shown in the form, by the field it concerns.
                errors = {"_form": refused.message, **input_errors(refused.fields)}
            else:
                flash(f"Booked {booked.patient.name} with {booked.provider.name} at {clock(booked.starts_at)}. "
                      "The patient gets a confirmation e-mail.", "success")
                day = clinic.to_local(booked.starts_at).date()
                return redirect(url_for("web.desk_calendar", date=day.isoformat()))
    return render_template("web/desk/appointment_new.html", values=values, errors=errors, provider=provider,
                           providers=providers.active_providers(), found=found, patient=patient, sessions=sessions,
                           session_key=_session_key, disciplines=clinic.disciplines(),
                           lengths=COMMON_LENGTHS, red_flag=red_flag, red_flag_names=RED_FLAGS, drafts=drafts,
                           outside_hours=outside_hours), \
        422 if errors else 200


def _session_key(session: dict) -> str:
    return f"{session['plan_id']}:{session['phase']}:{session['week']}:{session['discipline']}"


# --- one appointment's day: check in, no-show, completed, cancel; another time ------------------------------


def _appointment(appointment_id: int):
    appointment = scheduling.get_appointment(appointment_id)
    patient_in_reach(appointment.patient_id)
    return appointment


# A refused video link comes back to its page in these, so that the form shows what was typed and why it was
# refused beside the field (careplan/templates/web/_appointments.html, video_link_form).
LINK_QUERY = ("link_for", "link", "link_error")


@bp.get("/desk/appointments/<int:appointment_id>")
@page_for(*STAFF, query=("another", *LINK_QUERY))
def desk_appointment(appointment_id: int):
    appointment = _appointment(appointment_id)
    alternatives = []
    if request.args.get("another") and appointment.status in ("booked", "confirmed"):
        alternatives = calendar.find_another_time(appointment_id, caller=request_caller())
    return render_template("web/desk/appointment.html", appointment=appointment, alternatives=alternatives,
                           another=bool(request.args.get("another")), session=calendar.session_label(appointment),
                           day=clinic.to_local(appointment.starts_at).date())


# What each button of the day's life does, in the API's words.
STATUS_ACTIONS = {"completed": "completed", "no_show": "no_show"}


@bp.post("/desk/appointments/<int:appointment_id>/day")
@page_for(*STAFF, "provider")
def appointment_day_action(appointment_id: int):
    """Arrived, no-show, completed: from the desk's calendar or the clinician's own day page."""
    user = current_user()
    appointment = scheduling.get_appointment(appointment_id, user)
    action = request.form.get("action", "")
    back = local_path(request.form.get("back"), url_for(
        "web.desk_calendar", date=clinic.to_local(appointment.starts_at).date().isoformat()))
    try:
        if action == "arrived":
            if user.role not in STAFF:
                from careplan.errors import Forbidden

                raise Forbidden("The front desk checks patients in.")
            scheduling.check_in(appointment_id, caller=request_caller())
            flash(f"{appointment.patient.name} has arrived.", "success")
        elif action in STATUS_ACTIONS:
            scheduling.update_appointment(appointment_id, {"status": STATUS_ACTIONS[action]}, caller=request_caller())
            flash(f"{appointment.patient.name}: marked {'a no-show' if action == 'no_show' else 'completed'}.",
                  "success")
        else:
            flash("Choose arrived, no-show or completed.", "error")
    except ServiceError as refused:
        db.session.rollback()
        flash(refused.message, "error")
    return redirect(back)


@bp.post("/desk/appointments/<int:appointment_id>/video-link")
@page_for(*STAFF, "provider")
def appointment_video_link(appointment_id: int):
    """A video session's link, given after booking (a plan's proposal books video sessions without one): from the
    desk's page of the appointment or the clinician's own day. The patient is told how to join."""
    user = current_user()
    appointment = scheduling.get_appointment(appointment_id, user)
    back = local_path(request.form.get("back"), url_for("web.desk_appointment", appointment_id=appointment_id))
    link = request.form.get("video_link", "").strip()
    before = appointment.video_link
    loaded, errors = load(AppointmentChangeSchema(), {"video_link": link})
    problem = errors.get("video_link") if errors else None
    if loaded is not None:
        try:
            scheduling.update_appointment(appointment_id, loaded, caller=request_caller())
        except ServiceError as refused:
            db.session.rollback()
            problem = refused.fields.get("video_link") or refused.message
    if problem:
        when = f"{short_day(appointment.starts_at)} {clock(appointment.starts_at)}"
        which = gettext("%(name)s, %(when)s", name=appointment.patient.name, when=when)
        flash(gettext("The video link for %(session)s was not saved: %(problem)s", session=which, problem=problem),
              "error")
        return redirect(with_query(back, link_for=appointment_id, link=link, link_error=problem))
    if link == before:
        flash(gettext("That is the session's link already; nothing was sent."), "info")
    elif link:
        flash(gettext("%(name)s will get the link by e-mail.", name=appointment.patient.name), "success")
    else:
        flash(gettext("The link is taken away."), "success")
    return redirect(back)


@bp.route("/desk/appointments/<int:appointment_id>/moving", methods=["GET", "POST"])
@page_for(*STAFF, query=("start", "provider_id"))
def desk_move_preview(appointment_id: int):
    """What a move changes (from a drag on the grid or a chosen alternative), and only on confirming, the move."""
    appointment = _appointment(appointment_id)
    source = request.form if request.method == "POST" else request.args
    start_text = source.get("start", "")
    provider_text = source.get("provider_id", str(appointment.provider_id))
    change = {"start": local_moment(start_text), "provider_id": provider_text}
    loaded, errors = load(AppointmentChangeSchema(), change)
    target = get_provider(loaded["provider_id"]) if loaded is not None else None
    problem = None
    if loaded is not None and request.method == "POST":
        try:
            scheduling.update_appointment(appointment_id, loaded, caller=request_caller())
        except ServiceError as refused:
            db.session.rollback()
            problem = refused.message + "".join(f" {v}." for v in refused.fields.values())
        else:
            flash(f"Moved {appointment.patient.name} to {clock(appointment.starts_at)} with "
                  f"{appointment.provider.name}; the patient gets a notice of the new time.", "success")
            return redirect(url_for("web.desk_calendar",
                                    date=clinic.to_local(appointment.starts_at).date().isoformat()))
    new_start = loaded["start"] if loaded is not None else None
    return render_template("web/desk/move_preview.html", appointment=appointment, errors=errors, problem=problem,
                           target=target, new_start=new_start,
                           new_end=new_start + timedelta(minutes=appointment.minutes) if new_start else None,
                           start_text=start_text, provider_text=provider_text), \
        422 if errors or problem else 200
