from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.audit import service
from careplan.audit.schemas import AuditEventSchema, AuditQuerySchema, SeenQuerySchema
from careplan.auth.access import login_required
from careplan.pagination import page_of

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Who looked at or changed what")


@blp.route("")
class AuditTrail(MethodView):
    @login_required("admin")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """Newest first."""
        return page_of(service.search(**query), pagination_parameters)


@blp.route("/patients/<int:patient_id>/seen")
class PatientSeen(MethodView):
    @login_required("admin")
    @blp.arguments(SeenQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate()
    def get(self, query, patient_id, pagination_parameters):
        """Who saw this patient's data, oldest first: reads (lists and searches that returned them included) and
        changes, from every path"""
        return page_of(service.seen_query(patient_id, **query), pagination_parameters)
