"""The OpenAPI document is complete (walked operation by operation), and the service does what it says:
`Location` on every 201, `Link` beside `X-Pagination`, Swagger UI 5 served from the vendored files."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from careplan.api_docs import add_link_header, operation_id
from tests import factories

METHODS = ("get", "post", "put", "patch", "delete")
ERROR_STATUSES = {"400", "401", "403", "404", "409", "412", "413", "422", "429", "503"}


@pytest.fixture
def document(client):
    return client.get("/api/openapi.json").get_json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def resolve(document, node):
    while isinstance(node, dict) and "$ref" in node:
        _, kind, name = node["$ref"].rsplit("/", 2)
        node = document["components"][kind][name]
    return node


def test_every_operation_has_an_id_a_summary_a_description_and_its_error_answers(document):
    problems = []
    ids = []
    all_operations = list(operations(document))
    assert len(all_operations) >= 101
    for name, operation in all_operations:
        ids.append(operation.get("operationId"))
        for key in ("operationId", "summary", "description"):
            if not (operation.get(key) or "").strip():
                problems.append(f"{name}: no {key}")
        responses = operation["responses"]
        errors = ERROR_STATUSES & set(responses)
        if not {"422", "503"} <= errors:
            problems.append(f"{name}: 422 and 503 not both documented")
        if operation.get("security") != [] and "401" not in responses:
            problems.append(f"{name}: needs a caller but documents no 401")
        if re.search(r"\{\w+\}", name) and "404" not in responses:
            problems.append(f"{name}: has a path parameter but documents no 404")
        if "requestBody" in operation and "413" not in responses:
            problems.append(f"{name}: takes a body but documents no 413")
        for status in errors:
            content = resolve(document, responses[status]).get("content", {})
            if "application/json" in content:
                schema = content["application/json"]["schema"]
                error = resolve(document, schema)
                if "error" not in error.get("properties", {}):
                    problems.append(f"{name}: {status} is not the error schema")
                if "example" not in content["application/json"]:
                    problems.append(f"{name}: {status} has no example")
            elif "text/html" not in content:
                problems.append(f"{name}: {status} has no body documented")
        for status in ("201", "202"):
            if status in responses and "Location" not in resolve(document, responses[status]).get("headers", {}):
                problems.append(f"{name}: {status} without Location")
        for status, response in responses.items():
            headers = resolve(document, response).get("headers", {})
            if "X-Pagination" in headers and "Link" not in headers:
                problems.append(f"{name}: paged without Link")
    assert problems == []
    assert len(ids) == len(set(ids)), "operationIds repeat"


def test_who_may_call_is_read_from_login_required(document):
    post_patient = document["paths"]["/api/v1/patients"]["post"]
    assert "the front desk" in post_patient["description"] and "admins" in post_patient["description"]
    assert {"401", "403"} <= set(post_patient["responses"])
    notes = document["paths"]["/api/v1/patients/{patient_id}/notes"]["get"]
    assert "within the caller's reach" in notes["description"]
    me = document["paths"]["/api/v1/auth/me"]["get"]
    assert "403" not in me["responses"], "any signed-in user may read their own account"
    login = document["paths"]["/api/v1/auth/login"]["post"]
    assert login["security"] == [] and "401" in login["responses"]  # its own: a wrong password
    assert document["paths"]["/api/v1/webhooks"]["post"]["operationId"] == "postEndpoints"
    assert operation_id("get", "providers.ProviderById") == "getProviderById"


def test_the_error_answers_carry_an_example_of_the_one_format(document):
    for name in ("Unauthenticated", "Forbidden", "NotFound", "Invalid", "Unavailable"):
        content = document["components"]["responses"][name]["content"]["application/json"]
        assert set(content["example"]["error"]) >= {"code", "message", "fields", "request_id"}
    assert "Retry-After" in document["components"]["responses"]["Unavailable"]["headers"]


def test_the_main_requests_have_examples_that_their_schemas_accept(app, ctx, document):
    """Each example is loaded by the very schema the route parses its body with."""
    examples = 0
    for endpoint, view in app.view_functions.items():
        for method in METHODS:
            function = getattr(getattr(view, "view_class", None), method, None)
            for parameter in (getattr(function, "_apidoc", {}).get("arguments") or {}).get("parameters", []):
                values = ([parameter["example"]] if "example" in parameter else []) + [
                    e["value"] for e in (parameter.get("examples") or {}).values()]
                schema = parameter["schema"]() if isinstance(parameter["schema"], type) else parameter["schema"]
                for value in values:
                    assert schema.validate(value) == {}, (endpoint, method, value)
                    examples += 1
    assert examples >= 12
    for path, method in (("/api/v1/auth/login", "post"), ("/api/v1/appointments", "post"),
                         ("/api/v1/patients", "post"), ("/api/v1/plans", "post"),
                         ("/api/v1/plans/{plan_id}/proposals", "post"), ("/api/v1/webhooks", "post")):
        content = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert "example" in content or "examples" in content, path


def test_every_view_that_answers_201_says_where_the_record_is(app):
    missing = []
    for endpoint, view in app.view_functions.items():
        view_class = getattr(view, "view_class", None)
        for method in METHODS:
            function = getattr(view_class, method, None)
            docs = getattr(function, "_apidoc", {}) if function else {}
            statuses = set((docs.get("response") or {}).get("responses", {}))
            if statuses & {201, 202, "201", "202"} and not getattr(function, "careplan_location", None):
                missing.append(f"{endpoint} {method}")
    assert missing == []


def test_a_created_record_is_found_at_its_location(client, auth):
    headers = auth("admin")
    created = client.post("/api/v1/patients", headers=headers,
                          json={"name": "Marie Tremblay", "email": "marie.tremblay@mail.example"})
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location == f"/api/v1/patients/{created.get_json()['id']}"
    found = client.get(location, headers=headers)
    assert found.status_code == 200 and found.get_json()["email"] == "marie.tremblay@mail.example"


def test_a_sign_in_and_a_singleton_have_locations_too(app, client, auth):
    with app.app_context():
        email = factories.user("admin").email
    signed_in = client.post("/api/v1/auth/login", json={"email": email, "password": "correct horse battery"})
    assert signed_in.status_code == 201 and signed_in.headers["Location"] == "/api/v1/auth/tokens"
    with app.app_context():
        provider_id = factories.provider().id
    feed = client.post(f"/api/v1/providers/{provider_id}/calendar-feed", headers=auth("admin"))
    assert feed.status_code == 201
    assert feed.headers["Location"] == f"/api/v1/providers/{provider_id}/calendar-feed"


def test_a_paged_list_links_its_neighbours(app, client, auth):
    headers = auth("admin")
    with app.app_context():
        for _ in range(5):
            factories.patient()
    page = client.get("/api/v1/patients?page=2&page_size=2", headers=headers)
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', page.headers["Link"]))
    assert set(links) == {"first", "prev", "next", "last"}
    assert "page=1" in links["first"] and "page=1" in links["prev"] and "page=3" in links["next"]
    assert all("page_size=2" in url and url.startswith("/api/v1/patients?") for url in links.values())
    last = client.get(links["last"], headers=headers)
    assert last.status_code == 200 and 'rel="next"' not in last.headers["Link"]
    assert len(last.get_json()) >= 1


def test_the_link_header_keeps_the_other_query_parameters(app):
    with app.test_request_context("/api/v1/patients?q=ann&page=1"):
        from flask import Response

        response = Response(headers={"X-Pagination": '{"total": 30, "total_pages": 3, "first_page": 1, '
                                                     '"last_page": 3, "page": 1, "next_page": 2}'})
        links = add_link_header(response).headers["Link"]
    assert links == ('</api/v1/patients?q=ann&page=1>; rel="first", </api/v1/patients?q=ann&page=2>; rel="next", '
                     '</api/v1/patients?q=ann&page=3>; rel="last"')


def test_the_docs_page_serves_the_vendored_swagger_ui_5(client):
    vendored = Path(__file__).resolve().parent.parent / "careplan" / "static" / "vendor" / "swagger-ui"
    assert "5.35.0" in (vendored / "VERSION").read_text()
    assert (vendored / "LICENSE").exists()
    page = client.get("/api/docs")
    assert page.status_code == 200
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f"/api/docs/static/{name}".encode() in page.data
        served = client.get(f"/api/docs/static/{name}")
        assert served.status_code == 200 and served.data == (vendored / name).read_bytes()
