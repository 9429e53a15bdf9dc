"""Query parameters an API operation does not take are a 422 naming them, never a silently unfiltered list."""
from __future__ import annotations

from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from careplan import errors
from careplan.extensions import QUERY_NAMES, CareplanApi
from tests import factories


def test_a_misspelt_filter_is_422_naming_it(client, app, auth):
    with app.app_context():
        patient_id = factories.patient().id
        factories.appointment(patient_id)
        factories.appointment()
    headers = auth("front_desk")
    assert len(client.get(f"/api/v1/appointments?patient_id={patient_id}", headers=headers).get_json()) == 1
    response = client.get(f"/api/v1/appointments?patiend_id={patient_id}&page=1", headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"] == {"patiend_id": "unknown parameter"}
    assert "patient_id" in error["message"] and "page_size" in error["message"]


def test_an_operation_without_query_parameters_refuses_any(client, app, auth):
    with app.app_context():
        provider_id = factories.provider().id
    headers = auth("admin")
    for method, path in (("get", f"/api/v1/providers/{provider_id}"), ("get", "/api/v1/auth/me"),
                         ("delete", f"/api/v1/providers/{provider_id}")):
        response = getattr(client, method)(f"{path}?dry_run=1", headers=headers)
        assert response.status_code == 422, (path, response.status_code)
        assert response.get_json()["error"]["fields"] == {"dry_run": "unknown parameter"}
    # The refused DELETE changed nothing.
    assert client.get(f"/api/v1/providers/{provider_id}", headers=headers).status_code == 200


def test_every_api_operation_is_covered(app):
    """Whatever blueprint a route module registers through `api`, its operations are checked."""
    operations = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api/v1") for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert operations and operations <= set(app.extensions[QUERY_NAMES])


class _Filter(Schema):
    colour = fields.String(data_key="color")


def test_a_new_route_module_gets_the_check_without_asking():
    blp = Blueprint("things", __name__, url_prefix="/api/v1/things")

    @blp.route("")
    class Things(MethodView):
        @blp.arguments(_Filter, location="query")
        @blp.response(200)
        @blp.paginate()
        def get(self, query, pagination_parameters):
            pagination_parameters.item_count = 0
            return [query]

    flask_app = Flask(__name__)
    flask_app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = CareplanApi(flask_app)
    errors.register(flask_app, rollback=lambda: None)
    api.register_blueprint(blp)
    client = flask_app.test_client()
    assert client.get("/api/v1/things?color=red&page=2&page_size=5").status_code == 200
    response = client.get("/api/v1/things?colour=red")
    assert response.status_code == 422 and response.get_json()["error"]["fields"] == {"colour": "unknown parameter"}
