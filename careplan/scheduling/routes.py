from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.audit.service import record, record_listed
from careplan.auth.access import STAFF, login_required, patient_of
from careplan.auth.edge import current_user, request_caller
from careplan.errors import ErrorSchema
from careplan.idempotency import HEADER_DOC, idempotent
from careplan.pagination import page_of
from careplan.scheduling import service
from careplan.scheduling.models import Appointment
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
        """Staff see every appointment; a provider those of their care teams' patients; a patient their own."""
        appointments = page_of(service.list_appointments(current_user(), **query), pagination_parameters)
        record_listed("appointment", appointments, query.get("patient_id"), caller=request_caller())
        return appointments

    @login_required(*STAFF)
    @located("appointments.AppointmentById", appointment_id="id")
    @idempotent
    @blp.doc(parameters=[HEADER_DOC])
    @blp.arguments(BookingSchema, example={"patient_id": 12, "provider_id": 3, "discipline": "physiotherapy",
                                           "start": "2027-01-12T09:30:00-05:00", "minutes": 45, "kind": "treatment"})
    @blp.response(201, AppointmentSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the provider or the patient is busy then")
    def post(self, data):
        """Book one appointment; 409 when the clinician, the patient or every room is busy then."""
        return service.book_appointment(data, caller=request_caller())


@blp.route("/appointments/<int:appointment_id>")
class AppointmentById(MethodView):
    @login_required(patient=patient_of(Appointment, "appointment_id"))
    @blp.response(200, AppointmentSchema)
    def get(self, appointment_id):
        """One appointment."""
        appointment = service.get_appointment(appointment_id, current_user())
        record("read", "appointment", appointment.id, appointment.patient_id, caller=request_caller())
        return appointment

    @login_required(patient=patient_of(Appointment, "appointment_id"))
    @blp.arguments(AppointmentChangeSchema, examples={
        "move": {"summary": "Move to another time (and clinician)",
                 "value": {"start": "2027-01-14T15:00:00-05:00", "provider_id": 4}},
        "cancel": {"summary": "Cancel", "value": {"status": "cancelled", "reason": "the patient is unwell"}},
        "no_show": {"summary": "The patient did not come", "value": {"status": "no_show"}},
        "video_link": {"summary": "Give a video session its link (the patient is told how to join)",
                       "value": {"video_link": "https://video.example.org/room/5c1e"}}})
    @blp.response(200, AppointmentSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="busy then, or a change its status does not allow")
    @blp.alt_response(403, schema=ErrorSchema, description="a change the caller's role may not make: a patient "
                                                           "confirms or cancels, a provider marks their own "
                                                           "appointments completed or no-show and gives their own "
                                                           "video sessions' links")
    def patch(self, changes, appointment_id):
        """Move, cancel or mark an appointment, or give a video session its link.

        A new `start` (or `minutes`, another `provider_id`) moves it; `status: cancelled` with a `reason` cancels
        it; `confirmed`, `completed` and `no_show` mark it; `video_link`, on its own, gives a video session its
        address (https) or another one, and the patient gets an e-mail saying how to join."""
        return service.update_appointment(appointment_id, changes, caller=request_caller())


@blp.route("/providers/<int:provider_id>/free-slots")
class FreeSlots(MethodView):
    @login_required(*STAFF, "provider", resource="free_slot")
    @blp.arguments(FreeSlotQuerySchema, location="query")
    @blp.response(200, FreeSlotSchema(many=True))
    def get(self, query, provider_id):
        """The starts at which a clinician could take an appointment of `minutes` between `start` and `end`."""
        return service.free_slots(provider_id, query["start"], query["end"], query["minutes"])
