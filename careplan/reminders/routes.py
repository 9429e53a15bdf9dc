from flask import Response, render_template, request
from flask_babel import gettext
from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.audit.service import record, record_listed
from careplan.auth.access import STAFF, login_required
from careplan.auth.edge import request_caller
from careplan.clinic.service import settings
from careplan.caller import Caller
from careplan.errors import Conflict, ErrorSchema
from careplan.extensions import db
from careplan.i18n import speak_to
from careplan.pagination import page_of
from careplan.portal import service as portal
from careplan.reminders import links, service
from careplan.reminders.messages import describe
from careplan.reminders.schemas import OutboundEmailQuerySchema, OutboundEmailSchema
from careplan.web.patient import move_choice

blp = Blueprint("reminders", __name__, url_prefix="/api/v1/reminders",
                description="E-mails to patients (reminders and notices) and how their sending went")
links_blp = Blueprint("appointment_links", __name__, url_prefix="/api/v1/appointment-links",
                      description="The confirm, cancel and move links of reminder e-mails; no sign-in, the link is the key")


@blp.route("")
class Emails(MethodView):
    @login_required(*STAFF)
    @blp.arguments(OutboundEmailQuerySchema, location="query")
    @blp.response(200, OutboundEmailSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """E-mails, newest due first; `status=failed` is the front desk's list of patients to call."""
        emails = page_of(service.list_emails(**query), pagination_parameters)
        record_listed("reminder", emails, query.get("patient_id"), caller=request_caller())
        return emails


@blp.route("/<int:email_id>")
class EmailById(MethodView):
    @login_required(*STAFF)
    @blp.response(200, OutboundEmailSchema)
    def get(self, email_id):
        """One e-mail of the outbox: its kind, status, attempts and last error."""
        email = service.get_email(email_id)
        record("read", "reminder", email.id, email.patient_id, caller=request_caller())
        return email


@blp.route("/<int:email_id>/retry")
class EmailRetry(MethodView):
    @login_required(*STAFF)
    @blp.response(200, OutboundEmailSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="The e-mail has not failed")
    def post(self, email_id):
        """Send a failed e-mail again (after fixing the address or the mail server)."""
        return service.retry_email(email_id, caller=request_caller())


def _move_page(link: links.Link, *, notice: str | None = None, status: int = 200) -> Response:
    """The reminder's "I can't make it" link: the session's best alternatives, each a button that moves it."""
    options = portal.alternatives_for(link.appointment.id, patient_id=link.appointment.patient_id)
    html = render_template("web/my/move.html", options=options, notice=notice, action=request.path, back=None)
    return Response(html, status=status, mimetype="text/html")


def _page(link: links.Link, *, done: str | None = None) -> Response:
    appointment = describe(link.appointment) if link.appointment is not None else None
    html = render_template("reminders/link.html", clinic=settings(), appointment=appointment, action=link.action,
                           problem=link.problem, done=done)
    return Response(html, mimetype="text/html")


HTML_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}


@links_blp.route("/<string:token>")
class AppointmentLink(MethodView):
    # Patients open these from their e-mail: refusals are pages in the clinic's layout (careplan.errors).
    answers_people = True

    # A GET only shows what the link would do: mail scanners and link previews fetch links, and must not
    # confirm or cancel anything. The page's button POSTs.
    @links_blp.doc(security=[], responses={
        "200": {"description": "A page with the button, or why the link cannot be used", **HTML_PAGE},
        "404": {"description": "Not a link this clinic sent (a page saying so)", **HTML_PAGE}})
    def get(self, token):
        """The page behind an e-mail's confirm, cancel or move link: what the link would do, and its button."""
        speak_to(links.addressee(token))
        link = links.read_link(token, caller=request_caller())
        if link.action == links.MOVE and not link.problem:
            return _move_page(link)
        return _page(link)

    @links_blp.doc(security=[], responses={
        "200": {"description": "Done: a page saying so", **HTML_PAGE},
        "400": {"description": "A signed-in browser sent the form without its CSRF token (a page)", **HTML_PAGE},
        "404": {"description": "Not a link this clinic sent (a page saying so)", **HTML_PAGE},
        "409": {"description": "Used already, expired, the appointment changed, or too late to cancel online "
                               "(a page saying which)", **HTML_PAGE}})
    def post(self, token):
        """Use an e-mail's link: confirm, cancel or move the appointment (the page's button)."""
        speak_to(links.addressee(token))
        link = links.read_link(token, caller=request_caller())
        if link.action == links.MOVE:
            return _move(link)
        link = links.use_link(token, caller=request_caller())
        done = (gettext("Thank you: your appointment is confirmed.") if link.action == "confirm"
                else gettext("Your appointment is cancelled. A confirmation e-mail is on its way."))
        return _page(link, done=done)


def _move(link: links.Link) -> Response:
    if link.problem:
        raise Conflict(link.problem)
    who = Caller(None, (request.remote_addr or "")[:64], origin="web")
    try:
        moved = portal.move_to_alternative(who, link.appointment.id, patient_id=link.appointment.patient_id,
                                           **move_choice(request.form))
    except Conflict as refused:
        db.session.rollback()
        return _move_page(link, notice=refused.message, status=409)
    return _page(link, done=gettext("Done: your session is now on %(when)s. A confirmation e-mail is on its way.",
                                    when=describe(moved)["when"]))
