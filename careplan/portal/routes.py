from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.auth.access import login_required
from careplan.auth.service import current_user
from careplan.caller import Caller
from careplan.portal import service
from careplan.errors import ErrorSchema
from careplan.portal.schemas import ConfirmedSchema, ConfirmManySchema, MoveChoiceSchema, MoveOptionsSchema
from careplan.scheduling.schemas import AppointmentSchema

blp = Blueprint("portal", __name__, url_prefix="/api/v1/me",
                description="A patient's own appointments: confirm many at once, move one to a good alternative")


def caller() -> Caller:
    return Caller(current_user(), (request.remote_addr or "")[:64], origin="api")


@blp.route("/appointments/confirm")
class ConfirmMany(MethodView):
    @login_required("patient", resource="appointment")
    @blp.arguments(ConfirmManySchema)
    @blp.response(200, ConfirmedSchema)
    def post(self, data):
        """Confirm a clinic week (`week_of`) or every upcoming appointment (`all_upcoming`) at once."""
        return {"confirmed": service.confirm_many(caller(), week_of=data.get("week_of"))}


@blp.route("/appointments/<int:appointment_id>/alternatives")
class Alternatives(MethodView):
    @login_required("patient", resource="appointment")
    @blp.response(200, MoveOptionsSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the appointment is over or cancelled")
    def get(self, appointment_id):
        """The best few times this session could move to, in the same plan week (none inside the
        late-cancellation window: `late` is true and the patient calls the clinic)."""
        return service.alternatives_for(appointment_id, patient_id=service.patient_id_of(caller()))


@blp.route("/appointments/<int:appointment_id>/move")
class Move(MethodView):
    @login_required("patient", resource="appointment")
    @blp.arguments(MoveChoiceSchema)
    @blp.response(200, AppointmentSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the time was taken meanwhile (`error.alternatives` "
                                                           "are the fresh ones), the appointment changed, or it "
                                                           "is too late to move it online (`too_late`)")
    def post(self, choice, appointment_id):
        """Move the session to one of its alternatives."""
        me = caller()
        return service.move_to_alternative(me, appointment_id, patient_id=service.patient_id_of(me), **choice)
