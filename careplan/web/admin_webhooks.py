"""The administrator's webhooks: each endpoint with its last deliveries, what failed and why, and resend."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext

from careplan.auth.edge import request_caller
from careplan.errors import ServiceError
from careplan.extensions import db
from careplan.web import bp
from careplan.web.access import page_for
from careplan.webhooks import service as webhooks

LAST_DELIVERIES = 10


@bp.get("/admin/webhooks")
@page_for("admin")
def admin_webhooks():
    endpoints = list(db.session.scalars(webhooks.list_endpoints()))
    deliveries = {e.id: webhooks.last_deliveries(e.id, LAST_DELIVERIES) for e in endpoints}
    return render_template("web/admin/webhooks.html", endpoints=endpoints, deliveries=deliveries)


@bp.post("/admin/webhooks/deliveries/<int:delivery_id>/resend")
@page_for("admin")
def admin_webhook_resend(delivery_id: int):
    try:
        delivery = webhooks.resend(delivery_id, caller=request_caller())
    except ServiceError as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash(gettext("%(event)s (%(id)s) is queued again.", event=delivery.event_type, id=delivery.event_id), "success")
    return redirect(url_for("web.admin_webhooks"))
