from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.auth.access import STAFF, login_required
from careplan.auth.edge import current_user
from careplan.pagination import page_of
from careplan.providers import service
from careplan.providers.models import Provider
from careplan.providers.schemas import ProviderOutSchema, ProviderQuerySchema, ProviderSchema, TimeOffSchema
from careplan.versions import documents_if_match, etag, if_match, with_etag

blp = Blueprint("providers", __name__, url_prefix="/api/v1/providers", description="Clinicians, their hours and absences")


@blp.route("")
class Providers(MethodView):
    @login_required()
    @blp.arguments(ProviderQuerySchema, location="query")
    @blp.response(200, ProviderOutSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        return service.providers_seen_by(current_user(), page_of(service.list_providers(**query),
                                                                 pagination_parameters))

    @login_required("admin")
    @blp.arguments(ProviderSchema)
    @blp.response(201, ProviderOutSchema)
    def post(self, data):
        return service.create_provider(data)


@blp.route("/<int:provider_id>")
class ProviderById(MethodView):
    @login_required()
    @blp.response(200, ProviderOutSchema)
    def get(self, provider_id):
        provider = service.get_provider(provider_id)
        [seen] = service.providers_seen_by(current_user(), [provider])
        return seen, {"ETag": etag(provider)}

    @login_required("admin")
    @blp.arguments(ProviderSchema(partial=True))
    @blp.response(200, ProviderOutSchema)
    @documents_if_match(blp, "the provider")
    def patch(self, data, provider_id):
        return with_etag(service.update_provider(provider_id, data,
                                                 expected_version=if_match(Provider, provider_id)))

    @login_required("admin")
    @blp.response(204)
    @documents_if_match(blp, "the provider")
    def delete(self, provider_id):
        service.delete_provider(provider_id, expected_version=if_match(Provider, provider_id))


@blp.route("/<int:provider_id>/time-off")
class ProviderTimeOff(MethodView):
    @login_required(*STAFF, "provider")
    @blp.response(200, TimeOffSchema(many=True))
    def get(self, provider_id):
        return service.get_provider(provider_id).time_off

    @login_required(*STAFF)
    @blp.arguments(TimeOffSchema)
    @blp.response(201, TimeOffSchema)
    def post(self, data, provider_id):
        return service.add_time_off(provider_id, data)


@blp.route("/<int:provider_id>/time-off/<int:time_off_id>")
class ProviderTimeOffById(MethodView):
    @login_required(*STAFF)
    @blp.response(204)
    def delete(self, provider_id, time_off_id):
        service.delete_time_off(provider_id, time_off_id)
