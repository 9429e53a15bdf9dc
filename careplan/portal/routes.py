from flask import Response, render_template, request
from flask_babel import gettext
from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.audit.service import record
from careplan.auth.access import login_required, patient_of
from careplan.auth.edge import current_user, request_caller
from careplan.caller import Caller
from careplan.portal import service
from careplan.errors import Conflict, ErrorSchema
from careplan.extensions import db
from careplan.i18n import speak_to
from careplan.portal import offers
from careplan.reminders.messages import describe
from careplan.reminders.routes import HTML_PAGE
from careplan.portal.schemas import (ConfirmedSchema, ConfirmManySchema, EarlierSlotRequestSchema, MoveChoiceSchema,
                                     MoveOptionsSchema)
from careplan.scheduling.models import Appointment
from careplan.scheduling.schemas import AppointmentSchema

blp = Blueprint("portal", __name__, url_prefix="/api/v1/me",
                description="A patient's own appointments: confirm many at once, move one to a good alternative, "
                            "ask for an earlier time")
offers_blp = Blueprint("slot_offers", __name__, url_prefix="/api/v1/slot-offers",
                       description="Earlier times offered by e-mail; no sign-in, the link is the key")


def caller() -> Caller:
    return request_caller()


@blp.route("/appointments/confirm")
class ConfirmMany(MethodView):
    @login_required("patient", resource="appointment")
    @blp.arguments(ConfirmManySchema)
    @blp.response(200, ConfirmedSchema)
    def post(self, data):
        """Confirm a clinic week (`week_of`) or every upcoming appointment (`all_upcoming`) at once."""
        return {"confirmed": service.confirm_many(caller(), week_of=data.get("week_of"))}


# The patient's own appointment, else 404 (audited), before anything is read.
OWN_APPOINTMENT = patient_of(Appointment, "appointment_id")


@blp.route("/appointments/<int:appointment_id>/alternatives")
class Alternatives(MethodView):
    @login_required("patient", patient=OWN_APPOINTMENT, resource="appointment")
    @blp.response(200, MoveOptionsSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the appointment is over or cancelled")
    def get(self, appointment_id):
        """The best few times this session could move to, in the same plan week (none inside the
        late-cancellation window: `late` is true and the patient calls the clinic)."""
        me = caller()
        options = service.alternatives_for(appointment_id, patient_id=service.patient_id_of(me))
        record("read", "appointment", appointment_id, options.appointment.patient_id, detail="its alternatives",
               caller=me)
        return options


@blp.route("/appointments/<int:appointment_id>/move")
class Move(MethodView):
    @login_required("patient", patient=OWN_APPOINTMENT, resource="appointment")
    @blp.arguments(MoveChoiceSchema)
    @blp.response(200, AppointmentSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the time was taken meanwhile (`error.alternatives` "
                                                           "are the fresh ones), the appointment changed, or it "
                                                           "is too late to move it online (`too_late`)")
    def post(self, choice, appointment_id):
        """Move the session to one of its alternatives."""
        me = caller()
        return service.move_to_alternative(me, appointment_id, patient_id=service.patient_id_of(me), **choice)


@blp.route("/appointments/<int:appointment_id>/earlier-slot-request")
class EarlierSlotRequestView(MethodView):
    @login_required("patient", patient=OWN_APPOINTMENT, resource="appointment")
    @located("appointments.AppointmentById", appointment_id="appointment_id")
    @blp.response(201, EarlierSlotRequestSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the appointment is over or cancelled")
    def post(self, appointment_id):
        """Tell me when an earlier time opens for this session: a cancellation then offers it by e-mail.

        A time in the session's plan week fits; for the first session of a plan waiting to start (booked, none
        of its sessions held yet), a time in any earlier week does (`starts_plan_sooner`)."""
        me = caller()
        return offers.ask_for_earlier(me, appointment_id, patient_id=service.patient_id_of(me))


def _offer_page(offer, problem, *, done=None, status=200) -> Response:
    # The page shows the patient's session (what, when, with whom) to whoever holds the link: a read on the trail,
    # kept even when the page answers 409 (careplan.audit.service.write_kept).
    session = offer.request.appointment
    record("read", "appointment", session.id, session.patient_id,
           detail=f"earlier-slot offer {offer.id} link page", caller=request_caller())
    html = render_template("web/my/offer.html", offer=offer, session=offer.request.appointment, problem=problem,
                           done=done)
    return Response(html, status=status, mimetype="text/html")


@offers_blp.route("/<string:token>")
class SlotOfferLink(MethodView):
    # Patients open these from their e-mail: refusals are pages in the clinic's layout (careplan.errors).
    answers_people = True

    @offers_blp.doc(security=[], responses={
        "200": {"description": "The offer with its button, or why it cannot be taken", **HTML_PAGE},
        "404": {"description": "Not a link this clinic sent (a page saying so)", **HTML_PAGE}})
    def get(self, token):
        """What the offer is; a GET takes nothing (mail scanners fetch links)."""
        offer, _ = offers.read_offer(token, caller=request_caller())
        # Read again in the patient's language: why it cannot be taken is worded as it is read.
        speak_to(offer.request.appointment.patient)
        offer, problem = offers.read_offer(token, caller=request_caller())
        return _offer_page(offer, problem)

    @offers_blp.doc(security=[], responses={
        "200": {"description": "Taken: the session has moved (a page saying so)", **HTML_PAGE},
        "400": {"description": "A signed-in browser sent the form without its CSRF token (a page)", **HTML_PAGE},
        "404": {"description": "Not a link this clinic sent (a page saying so)", **HTML_PAGE},
        "409": {"description": "Gone to another patient, expired, or taken already (a page saying which)",
                **HTML_PAGE}})
    def post(self, token):
        """Take the offered time: the first patient to accept gets it."""
        offer, _ = offers.read_offer(token, caller=request_caller())
        speak_to(offer.request.appointment.patient)
        try:
            offer = offers.accept_offer(Caller(None, (request.remote_addr or "")[:64], origin="web"), token)
        except Conflict as refused:
            db.session.rollback()
            offer, _ = offers.read_offer(token, caller=request_caller())
            return _offer_page(offer, refused.message, status=409)
        return _offer_page(offer, None, done=gettext("Done: your session is now on %(when)s. A confirmation e-mail "
                                                     "is on its way.", when=describe(offer.request.appointment)["when"]))
