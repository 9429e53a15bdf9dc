"""The administrator's clinic: protocol templates and their versions, user accounts, the audit search."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from careplan.audit import service as audit
from careplan.audit.schemas import AuditQuerySchema
from careplan.auth import service as accounts
from careplan.auth.models import ROLES
from careplan.auth.schemas import UserSchema
from careplan.auth.edge import current_user, request_caller
from careplan.extensions import db
from careplan.page_query import query_choice
from careplan.patients.models import Patient
from careplan.protocols import service as protocols
from careplan.protocols.schemas import TemplateVersionSchema
from careplan.web import bp, queries
from careplan.web.access import page_for
from careplan.web.forms import load, local_moment, submit, text
from careplan.web.planning import form_errors, phase_values, phases_from_form

AUDIT_LIMIT = 200
USER_LIMIT = 200


@bp.get("/admin/templates")
@page_for("admin")
def admin_templates():
    current = list(db.session.scalars(protocols.list_templates()))
    return render_template("web/admin/templates.html", templates=current)


@bp.route("/admin/templates/<int:template_id>", methods=["GET", "POST"])
@page_for("admin")
def admin_template(template_id: int):
    template = protocols.get_template(template_id)
    latest = protocols.current_template(template.condition, template.region, template.severity)
    phases = template.body["phases"]
    values, errors = phase_values(phases), {}
    values.update({"name": template.name, "note": ""})
    if request.method == "POST":
        values = request.form
        # The latest version's phases are what an edit starts from (the form shows them).
        data = {"name": request.form.get("name", "").strip(), "note": request.form.get("note", "").strip(),
                "phases": phases_from_form(request.form, latest.body["phases"], purpose_editable=True),
                "assessment": latest.body.get("assessment"),
                "conditional_lines": latest.body.get("conditional_lines") or []}
        saved, errors = submit(TemplateVersionSchema(), data,
                               lambda loaded: protocols.new_version(template_id, loaded, caller=request_caller()))
        if saved is not None:
            flash(gettext("Version %(version)s of %(name)s is now the one new plans use.", version=saved.version,
                          name=saved.name), "success")
            return redirect(url_for("web.admin_template", template_id=saved.id))
        errors = form_errors(errors)
    history = list(db.session.scalars(protocols.list_templates(
        region=template.region, severity=template.severity, all_versions=True)))
    return render_template("web/admin/template.html", template=template, latest=latest, phases=phases,
                           values=values, errors=errors, history=list(reversed(history)),
                           authors=queries.users_by_id(t.created_by_id for t in history)), 422 if errors else 200


@bp.get("/admin/users")
@page_for("admin", query=("role", "q"))
def admin_users():
    role = query_choice("role", ROLES)
    q = request.args.get("q", "").strip()[:100]
    users = list(db.session.scalars(accounts.list_users(role=role if role in ROLES else None, q=q or None)
                                    .limit(USER_LIMIT)))
    return render_template("web/admin/users.html", users=users, role=role, q=q, roles=ROLES,
                           values={}, errors={}, **_links_of(users))


def _links_of(users) -> dict:
    providers = queries.providers_by_id(u.provider_id for u in users if u.provider_id)
    patient_ids = {u.patient_id for u in users if u.patient_id}
    patients = {p.id: p for p in db.session.scalars(select(Patient).where(Patient.id.in_(patient_ids)))} \
        if patient_ids else {}
    return {"providers": providers, "patients": patients, "all_providers": queries.active_providers()}


def _user_form(form) -> dict:
    data = text(form, "email", "role", "password")
    for link in ("provider_id", "patient_id"):
        data[link] = form.get(link, "").strip() or None
    return {key: value for key, value in data.items() if value not in ("", None) or key in ("email", "role")}


@bp.post("/admin/users")
@page_for("admin")
def admin_user_new():
    data = _user_form(request.form)
    user, errors = submit(UserSchema(), data, lambda loaded: accounts.create_user(**loaded))
    if user is not None:
        flash(gettext("Account %(email)s created.", email=user.email), "success")
        return redirect(url_for("web.admin_users") + f"#user-{user.id}")
    users = list(db.session.scalars(accounts.list_users().limit(USER_LIMIT)))
    return render_template("web/admin/users.html", users=users, role="", q="", roles=ROLES,
                           values=request.form, errors=errors, **_links_of(users)), 422


@bp.post("/admin/users/<int:user_id>")
@page_for("admin")
def admin_user_change(user_id: int):
    """Enable, disable or change the role of an account (the service ends its sessions when needed)."""
    change = {}
    if request.form.get("active") in ("true", "false"):
        change["active"] = request.form["active"] == "true"
    if request.form.get("role"):
        change["role"] = request.form["role"]
    user, errors = submit(UserSchema(partial=True), change,
                          lambda loaded: accounts.update_user(user_id, loaded, by=current_user()))
    if user is None:
        flash(next(iter(errors.values())), "error")
    else:
        flash(f"{user.email}: {'signs in' if user.active else 'disabled'}, {user.role.replace('_', ' ')}.",
              "success")
    return redirect(url_for("web.admin_users") + f"#user-{user_id}")


# The audit page's search form (GET): its inputs are the page's query parameters.
AUDIT_FILTERS = ("user_id", "patient_id", "action", "resource", "from", "to")


@bp.get("/admin/audit")
@page_for("admin", query=AUDIT_FILTERS)
def admin_audit():
    form = text(request.args, *AUDIT_FILTERS)
    query = {key: value for key, value in form.items() if value}
    for key in ("from", "to"):
        if key in query:
            query[key] = local_moment(query[key])
    loaded, errors = load(AuditQuerySchema(), query)
    events = []
    if loaded is not None:
        events = list(db.session.scalars(audit.search(**loaded).limit(AUDIT_LIMIT)))
    errors = {("from" if key == "start" else key): message for key, message in errors.items()}
    return render_template("web/admin/audit.html", form=form, errors=errors, events=events, limit=AUDIT_LIMIT,
                           users=queries.users_by_id(e.user_id for e in events),
                           actions=audit.ACTIONS)
