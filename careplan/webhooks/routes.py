from flask.views import MethodView
from flask_smorest import Blueprint

from careplan.api_docs import located
from careplan.auth.access import login_required
from careplan.auth.edge import request_caller
from careplan.pagination import page_of
from careplan.webhooks import service
from careplan.webhooks.schemas import (DeliveryQuerySchema, DeliverySchema, EndpointInSchema, EndpointSchema,
                                       NewEndpointSchema)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                description="Signed webhooks: other systems told of bookings, moves, cancellations and no-shows")


@blp.route("")
class Endpoints(MethodView):
    @login_required("admin")
    @blp.response(200, EndpointSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """The registered endpoints"""
        return page_of(service.list_endpoints(), pagination_parameters)

    @login_required("admin")
    @located("webhooks.EndpointById", endpoint_id="id")
    @blp.arguments(EndpointInSchema, example={"url": "https://billing.clinic.example/careplan-events",
                                              "events": ["appointment.booked", "appointment.cancelled",
                                                         "appointment.no_show"],
                                              "description": "billing"})
    @blp.response(201, NewEndpointSchema)
    def post(self, data):
        """Register an endpoint; the answer carries its signing secret, shown this once"""
        return service.create_endpoint(data, caller=request_caller())


@blp.route("/<int:endpoint_id>")
class EndpointById(MethodView):
    @login_required("admin")
    @blp.response(200, EndpointSchema)
    def get(self, endpoint_id):
        """One endpoint"""
        return service.get_endpoint(endpoint_id)

    @login_required("admin")
    @blp.response(204)
    def delete(self, endpoint_id):
        """Stop an endpoint: nothing more is sent to it; what was sent stays listed"""
        service.remove_endpoint(endpoint_id, caller=request_caller())


@blp.route("/<int:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @login_required("admin")
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliverySchema(many=True))
    @blp.paginate()
    def get(self, query, endpoint_id, pagination_parameters):
        """The endpoint's last deliveries, newest first (`status=failed`: the failures)"""
        return page_of(service.deliveries_of(endpoint_id, **query), pagination_parameters)


@blp.route("/deliveries/<int:delivery_id>/resend")
class Resend(MethodView):
    @login_required("admin")
    @located("webhooks.Deliveries", endpoint_id="endpoint_id")
    @blp.response(202, DeliverySchema)
    def post(self, delivery_id):
        """Send a delivery again (the same event id), e.g. after the receiver was fixed"""
        return service.resend(delivery_id, caller=request_caller())
