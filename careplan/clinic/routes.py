from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.auth.access import login_required
from careplan.clinic import service
from careplan.clinic.schemas import ClinicSettingsSchema, DisciplineQuerySchema, DisciplineSchema

blp = Blueprint("clinic", __name__, url_prefix="/api/v1", description="The clinic's settings and disciplines")


@blp.route("/clinic")
class Clinic(MethodView):
    @login_required()
    @blp.response(200, ClinicSettingsSchema)
    def get(self):
        """The clinic's settings: name, address, time zone, slot length and booking rules, language."""
        return service.effective_settings()

    @login_required("admin")
    @blp.arguments(ClinicSettingsSchema)
    @blp.response(200, ClinicSettingsSchema)
    def patch(self, data):
        """Change the clinic's settings; fields left out keep their value."""
        service.update_settings(data)
        return service.effective_settings()


@blp.route("/disciplines")
class Disciplines(MethodView):
    @login_required()
    @blp.arguments(DisciplineQuerySchema, location="query")
    @blp.response(200, DisciplineSchema(many=True))
    def get(self, query):
        """The disciplines the clinic offers (`include_inactive` for the retired ones too)."""
        return service.disciplines(include_inactive=query["include_inactive"])

    @login_required("admin")
    @located("clinic.DisciplineByCode", code="code")
    @blp.arguments(DisciplineSchema)
    @blp.response(201, DisciplineSchema)
    def post(self, data):
        """Add a discipline."""
        return service.add_discipline(data)


@blp.route("/disciplines/<string:code>")
class DisciplineByCode(MethodView):
    @login_required("admin")
    @blp.arguments(DisciplineSchema(partial=True, exclude=("code",)))
    @blp.response(200, DisciplineSchema)
    def patch(self, data, code):
        """Change a discipline (its name, practitioner title, note visibility, whether it is offered)."""
        return service.update_discipline(code, data)
