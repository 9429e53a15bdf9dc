"""The OpenAPI document is served, and schemathesis finds no 5xx and no response that breaks it."""
import pytest
import schemathesis
# Imported here, at collection, not lazily deep inside a test's stack: Python 3.11.7's ast.parse, which these
# modules' import runs, can fail there ("AST constructor recursion depth mismatch"; seen with `definitions`,
# then with `schemas` in a whole-suite run).
import schemathesis.specs.openapi.definitions  # noqa: F401
import schemathesis.specs.openapi.schemas  # noqa: F401
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from careplan.demo import load_demo
from tests import factories

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture
def admin_headers(app, monkeypatch):
    """An admin over the demo clinic, so that generated ids often hit real records."""
    # Each generated proposal would otherwise search for the suite's full 2 s: the run stays about a minute.
    monkeypatch.setitem(app.config, "PROPOSAL_MAX_SECONDS", 0.2)
    with app.app_context():
        load_demo()
        return factories.bearer(factories.user("admin"))


def test_document_is_served_with_docs(client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/providers" in document["paths"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert b"/api/docs/static/swagger-ui-bundle.js" in page.data
    assert client.get("/api/docs/static/swagger-ui-bundle.js").status_code == 200


@schema.parametrize()
@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_responses_match_the_document(case, admin_headers):
    response = case.call(headers=admin_headers)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance], headers=admin_headers)
