from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.audit.service import record_listed
from careplan.auth.access import STAFF, login_required
from careplan.auth.edge import current_user, request_caller
from careplan.errors import ErrorSchema
from careplan.pagination import page_of
from careplan.providers import service
from careplan.providers.models import Provider
from careplan.providers.schemas import (ChangeAnswer, ProviderChangedSchema, ProviderOutSchema, ProviderQuerySchema,
                                       ProviderSchema, TimeOffChangedSchema, TimeOffSchema)
from careplan.versions import documents_if_match, etag, if_match

blp = Blueprint("providers", __name__, url_prefix="/api/v1/providers", description="Clinicians, their hours and absences")


@blp.route("")
class Providers(MethodView):
    @login_required()
    @blp.arguments(ProviderQuerySchema, location="query")
    @blp.response(200, ProviderOutSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """The clinicians, by name, filtered by discipline or by whether they are active."""
        return service.providers_seen_by(current_user(), page_of(service.list_providers(**query),
                                                                 pagination_parameters))

    @login_required("admin")
    @located("providers.ProviderById", provider_id="id")
    @blp.arguments(ProviderSchema, example={
        "name": "Ana Moreau", "email": "ana.moreau@clinic.example", "disciplines": ["physiotherapy"],
        "availability": [{"day": day, "start": "08:00", "end": "16:00"}
                         for day in ("mon", "tue", "wed", "thu", "fri")]})
    @blp.response(201, ProviderOutSchema)
    def post(self, data):
        """Add a clinician with their disciplines and weekly hours."""
        return service.create_provider(data)


@blp.route("/<int:provider_id>")
class ProviderById(MethodView):
    @login_required()
    @blp.response(200, ProviderOutSchema)
    def get(self, provider_id):
        """One clinician, with an `ETag` to send back as `If-Match` when changing them."""
        provider = service.get_provider(provider_id)
        [seen] = service.providers_seen_by(current_user(), [provider])
        return seen, {"ETag": etag(provider)}

    @login_required("admin")
    @blp.arguments(ProviderSchema(partial=True))
    @blp.response(200, ProviderChangedSchema)
    @documents_if_match(blp, "the provider")
    def patch(self, data, provider_id):
        """Hours cut (or the provider made inactive) over booked appointments: `affected_appointments` lists
        them, flagged for the front desk, their reminders held."""
        change = service.update_provider(provider_id, data, expected_version=if_match(Provider, provider_id))
        record_listed("appointment", change.affected, caller=request_caller())
        return ChangeAnswer(change.provider, change.affected), {"ETag": etag(change.provider)}

    @login_required("admin")
    @blp.response(204)
    @blp.alt_response(409, schema=ErrorSchema, description="the clinician has appointments, care teams or an "
                                                           "account on record: set `active` to false instead")
    @documents_if_match(blp, "the provider")
    def delete(self, provider_id):
        """Remove a clinician entered by mistake (one with no history)."""
        service.delete_provider(provider_id, expected_version=if_match(Provider, provider_id))


@blp.route("/<int:provider_id>/time-off")
class ProviderTimeOff(MethodView):
    @login_required(*STAFF, "provider")
    @blp.response(200, TimeOffSchema(many=True))
    def get(self, provider_id):
        """A clinician's time off."""
        return service.get_provider(provider_id).time_off

    @login_required(*STAFF)
    @located("providers.ProviderTimeOffById", provider_id="provider_id", time_off_id="id")
    @blp.arguments(TimeOffSchema)
    @blp.response(201, TimeOffChangedSchema)
    def post(self, data, provider_id):
        """An absence over booked appointments: `affected_appointments` lists them, flagged for the front desk,
        their reminders held."""
        change = service.add_time_off(provider_id, data)
        record_listed("appointment", change.affected, caller=request_caller())
        return ChangeAnswer(change.time_off, change.affected)


@blp.route("/<int:provider_id>/time-off/<int:time_off_id>")
class ProviderTimeOffById(MethodView):
    @login_required(*STAFF)
    @blp.response(204)
    def delete(self, provider_id, time_off_id):
        """Withdraw a period of time off; the clinician can be booked then again."""
        service.delete_time_off(provider_id, time_off_id)
