from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.auth.access import STAFF, login_required
from careplan.auth.service import current_user
from careplan.errors import ErrorSchema
from careplan.idempotency import HEADER_DOC, idempotent
from careplan.pagination import page_of
from careplan.scheduling import service
from careplan.scheduling.schemas import (AppointmentChangeSchema, AppointmentQuerySchema, AppointmentSchema,
                                         BookingSchema, FreeSlotQuerySchema, FreeSlotSchema)

blp = Blueprint("appointments", __name__, url_prefix="/api/v1", description="Booking single appointments")


@blp.route("/appointments")
class Appointments(MethodView):
    @login_required()
    @blp.arguments(AppointmentQuerySchema, location="query")
    @blp.response(200, AppointmentSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        return page_of(service.list_appointments(current_user(), **query), pagination_parameters)

    @login_required(*STAFF)
    @idempotent
    @blp.doc(parameters=[HEADER_DOC])
    @blp.arguments(BookingSchema)
    @blp.response(201, AppointmentSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the provider or the patient is busy then")
    def post(self, data):
        return service.book_appointment(data)


@blp.route("/appointments/<int:appointment_id>")
class AppointmentById(MethodView):
    @login_required()
    @blp.response(200, AppointmentSchema)
    def get(self, appointment_id):
        return service.get_appointment(appointment_id, current_user())

    @login_required()
    @blp.arguments(AppointmentChangeSchema)
    @blp.response(200, AppointmentSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="busy then, or a change its status does not allow")
    def patch(self, changes, appointment_id):
        return service.update_appointment(appointment_id, changes, user=current_user())


@blp.route("/providers/<int:provider_id>/free-slots")
class FreeSlots(MethodView):
    @login_required()
    @blp.arguments(FreeSlotQuerySchema, location="query")
    @blp.response(200, FreeSlotSchema(many=True))
    def get(self, query, provider_id):
        return service.free_slots(provider_id, query["start"], query["end"], query["minutes"])
