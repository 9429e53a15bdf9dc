"""Providers, their weekly hours and their time off: admins edit, the front desk records absences."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from markupsafe import Markup

from careplan.auth.access import STAFF
from careplan.auth.edge import current_user
from careplan.clinic import service as clinic
from careplan.errors import Forbidden
from careplan.extensions import db
from careplan.providers import service as providers
from careplan.providers.schemas import ProviderSchema, TimeOffSchema
from careplan.rooms import service as rooms
from careplan.web import bp
from careplan.page_query import query_choice
from careplan.web.access import page_for
from careplan.web.forms import CHANGED, WindowRows, form_version, local_input, local_moment, submit, text


@bp.get("/admin/providers")
@page_for(*STAFF, query=("show",))
def admin_providers():
    show = query_choice("show", ("active", "all"), "active")
    everyone = list(db.session.scalars(providers.list_providers(active=None if show == "all" else True)))
    return render_template("web/admin/providers.html", providers=everyone, show=show)


def _provider_form(form) -> tuple[dict, WindowRows]:
    windows = WindowRows.from_form(form)
    data = text(form, "name", "email", "phone")
    data["active"] = form.get("active") == "on"
    data["disciplines"] = form.getlist("disciplines")
    data["availability"] = windows.as_data()
    return data, windows


def _only_admins_edit() -> None:
    if current_user().role != "admin":
        raise Forbidden("Only an administrator changes a provider's details and hours.")


@bp.route("/admin/providers/new", methods=["GET", "POST"])
@page_for("admin")
def admin_provider_new():
    data, windows, errors = {"active": True, "disciplines": []}, WindowRows([]), {}
    if request.method == "POST":
        data, windows = _provider_form(request.form)
        provider, errors = submit(ProviderSchema(), data, providers.create_provider)
        if provider is not None:
            flash(gettext("%(name)s is added.", name=provider.name), "success")
            return redirect(url_for("web.admin_provider", provider_id=provider.id))
    return render_template("web/admin/provider_new.html", values=data, windows=windows.with_blanks(),
                           errors=errors, disciplines=clinic.disciplines(),
                           locations=rooms.list_locations(include_inactive=False)), 422 if errors else 200


@bp.route("/admin/providers/<int:provider_id>", methods=["GET", "POST"])
@page_for(*STAFF)
def admin_provider(provider_id: int):
    provider = providers.get_provider(provider_id)
    if request.method == "POST":
        _only_admins_edit()
        data, windows = _provider_form(request.form)
        version = form_version(request.form)
        saved, errors = submit(ProviderSchema(), data, lambda loaded: providers.update_provider(
            provider_id, loaded, expected_version=version))
        if saved is not None:
            if saved.affected:
                flash(outside_hours_message(len(saved.affected)), "warning")
            else:
                flash(gettext("Changes saved."), "success")
            return redirect(url_for("web.admin_provider", provider_id=provider_id))
        if errors.pop(CHANGED, None) is not None:
            # The provider as it is now, after someone else's change: the one the admin edits next.
            return _provider_page(providers.get_provider(provider_id), changed=True)
        return _provider_page(provider, values=data, windows=windows, errors=errors, version=version)
    return _provider_page(provider)


def _provider_page(provider, *, values=None, windows=None, errors=None, absence=None, absence_errors=None,
                   version=None, changed=False):
    """`version`: the one the edit form was filled from (the provider's current one unless a form says so)."""
    values = values or {"name": provider.name, "email": provider.email, "phone": provider.phone,
                        "active": provider.active, "disciplines": provider.discipline_codes}
    windows = windows or WindowRows.from_windows(provider.availability)
    status = 409 if changed else 422 if errors or absence_errors else 200
    return render_template("web/admin/provider.html", provider=provider, values=values,
                           version=provider.version if version is None else version, changed=changed,
                           windows=windows.with_blanks(), errors=errors or {}, disciplines=clinic.disciplines(),
                           locations=rooms.list_locations(include_inactive=False),
                           absence=absence or {}, absence_errors=absence_errors or {},
                           may_edit=current_user().role == "admin", local_input=local_input), status


@bp.post("/admin/providers/<int:provider_id>/time-off")
@page_for(*STAFF)
def admin_time_off_add(provider_id: int):
    provider = providers.get_provider(provider_id)
    absence = text(request.form, "start", "end", "reason")
    data = {key: local_moment(absence[key]) for key in ("start", "end") if absence[key]}
    data["reason"] = absence["reason"]
    added, errors = submit(TimeOffSchema(), data, lambda loaded: providers.add_time_off(provider_id, loaded))
    if added is None:
        return _provider_page(provider, absence=absence, absence_errors=errors)
    if added.affected:
        flash(_time_off_message(len(added.affected)), "warning")
    else:
        flash(gettext("Time off recorded. Re-plan the care it touches next."), "success")
    return redirect(url_for("web.desk_absence_replan", provider_id=provider_id, time_off_id=added.time_off.id))


def outside_hours_message(count: int) -> Markup:
    """Saved, and what it left for the front desk: the count and the way to the list of them."""
    return Markup(ngettext(
        'Saved. %(num)d appointment now falls outside these hours: its reminders are held until the front desk '
        'moves it or re-plans (<a href="%(link)s">appointments needing attention</a>).',
        'Saved. %(num)d appointments now fall outside these hours: their reminders are held until the front desk '
        'moves them or re-plans (<a href="%(link)s">appointments needing attention</a>).',
        count, link=url_for("web.desk_flagged")))


def _time_off_message(count: int) -> Markup:
    """Recorded, and what it touches. It used to say "Saved. 2 appointments now fall outside these hours or
    inside a time off", on a page about one time off, where no hours had changed."""
    return Markup(ngettext(
        'Time off recorded. %(num)d booked appointment is inside it: its reminders are held until it is '
        're-planned below or moved (<a href="%(link)s">appointments needing attention</a>).',
        'Time off recorded. %(num)d booked appointments are inside it: their reminders are held until they are '
        're-planned below or moved (<a href="%(link)s">appointments needing attention</a>).',
        count, link=url_for("web.desk_flagged")))


@bp.post("/admin/providers/<int:provider_id>/time-off/<int:time_off_id>/delete")
@page_for(*STAFF)
def admin_time_off_delete(provider_id: int, time_off_id: int):
    providers.delete_time_off(provider_id, time_off_id)
    flash(gettext("Time off removed."), "success")
    return redirect(url_for("web.admin_provider", provider_id=provider_id) + "#time-off")
