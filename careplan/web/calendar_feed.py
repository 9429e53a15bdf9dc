"""A person's own calendar link: the private feed URL their calendar app subscribes to (patients from their
appointments, clinicians from their week), made, replaced or stopped on a page, as the API does."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from careplan.auth.edge import current_user, request_caller
from careplan.errors import NotFound
from careplan.fhir import feeds
from careplan.web import bp
from careplan.web.access import page_for, patient_in_reach


@bp.route("/my/calendar-feed", methods=["GET", "POST"])
@page_for("patient")
def my_calendar_feed():
    patient = patient_in_reach(current_user().patient_id)
    return _feed_page("patient", patient.id, back=("/my/appointments", gettext("My appointments")))


@bp.route("/me/calendar-feed", methods=["GET", "POST"])
@page_for("provider")
def me_calendar_feed():
    return _feed_page("provider", current_user().provider_id, back=("/me/week", gettext("My week")))


def _feed_page(owner: str, owner_id: int, *, back: tuple[str, str]):
    """The link is shown once, when it is made (only its digest is kept); the .ics download is a copy of one
    moment, the feed follows every move and cancellation by itself."""
    caller = request_caller()
    url = None
    if request.method == "POST":
        if request.form.get("action") == "stop":
            try:
                feeds.revoke_feed(owner, owner_id, caller=caller)
            except NotFound:
                pass
            flash(gettext("Your calendar link is stopped: calendars that used it get nothing more."), "success")
            return redirect(request.path)
        _, token = feeds.open_feed(owner, owner_id, caller=caller)
        url = url_for("calendar.feed", token=token, _external=True)
    try:
        made = feeds.get_feed(owner, owner_id, caller=caller).created_at
    except NotFound:
        made = None
    return render_template("web/calendar_feed.html", url=url, made=made, back=back, action=request.path)
