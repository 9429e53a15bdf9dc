from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.auth.access import STAFF, login_required
from careplan.auth.edge import request_caller
from careplan.errors import ErrorSchema
from careplan.pagination import page_of
from careplan.protocols import service
from careplan.protocols.schemas import TemplateQuerySchema, TemplateSchema, TemplateVersionSchema

blp = Blueprint("protocols", __name__, url_prefix="/api/v1/protocols",
                description="Protocol templates: the clinic's treatment protocols, versioned")


@blp.route("")
class Protocols(MethodView):
    @login_required(*STAFF, "provider")
    @blp.arguments(TemplateQuerySchema, location="query")
    @blp.response(200, TemplateSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """The current version of each template (every version with all_versions=true)"""
        return page_of(service.list_templates(**query), pagination_parameters)

    @login_required("admin")
    @located("protocols.ProtocolById", template_id="id")
    @blp.arguments(TemplateSchema)
    @blp.response(201, TemplateSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="a template for this region and severity exists")
    def post(self, data):
        """A new template (version 1) for a region and severity that has none"""
        return service.create_template(data, caller=request_caller())


@blp.route("/<int:template_id>")
class ProtocolById(MethodView):
    @login_required(*STAFF, "provider")
    @blp.response(200, TemplateSchema)
    def get(self, template_id):
        """One protocol template with its versions."""
        return service.get_template(template_id)


@blp.route("/<int:template_id>/versions")
class ProtocolVersions(MethodView):
    @login_required("admin")
    @located("protocols.ProtocolById", template_id="id")
    @blp.arguments(TemplateVersionSchema)
    @blp.response(201, TemplateSchema)
    def post(self, data, template_id):
        """Edit a template: the fields given replace the current version's in a new version.

        Plans already built keep the version they were built from.
        """
        return service.new_version(template_id, data, caller=request_caller())
