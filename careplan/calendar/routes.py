from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.auth.access import STAFF, login_required
from careplan.auth.edge import current_user, request_caller
from careplan.calendar import service
from careplan.calendar.schemas import DayQuerySchema, FeedSchema, WeekQuerySchema
from careplan.errors import ErrorSchema
from careplan.scheduling import service as scheduling
from careplan.scheduling.schemas import AppointmentSchema
from careplan.plans.service import clinic_today

blp = Blueprint("clinic_calendar", __name__, url_prefix="/api/v1", description="The clinic calendar: days and weeks as grids")


@blp.route("/calendar/day")
class CalendarDay(MethodView):
    @login_required(*STAFF, resource="appointment")
    @blp.arguments(DayQuerySchema, location="query")
    @blp.response(200, FeedSchema)
    def get(self, query):
        """Every clinician working that day, a page at a time: their appointments, held slots, time off and hours
        outside work."""
        return service.feed([service.day_grid(query["date"] or clinic_today(), discipline=query["discipline"],
                                              location_id=query["location_id"], page=query["page"])])


@blp.route("/calendar/week")
class CalendarWeek(MethodView):
    @login_required(*STAFF, resource="appointment")
    @blp.arguments(WeekQuerySchema, location="query")
    @blp.response(200, FeedSchema)
    def get(self, query):
        """One clinician's Monday to Sunday."""
        return service.feed(service.week_grid(query["provider_id"], query["date"] or clinic_today()).days)


@blp.route("/appointments/<int:appointment_id>/check-in")
class CheckIn(MethodView):
    @login_required(*STAFF, resource="appointment")
    @blp.response(200, AppointmentSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the appointment is cancelled or over")
    def post(self, appointment_id):
        """The patient is here (arrived_at); checking in twice keeps the first time."""
        return scheduling.check_in(appointment_id, caller=request_caller())

