from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.auth.access import login_required
from careplan.auth.service import current_user
from careplan.caller import Caller
from careplan.portal import service
from careplan.portal.schemas import ConfirmedSchema, ConfirmManySchema

blp = Blueprint("portal", __name__, url_prefix="/api/v1/me",
                description="A patient's own appointments: confirm many at once")


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
