"""Bodies no real request sends: tens of megabytes (413) and JSON nested hundreds deep (422), never a 500."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from careplan.extensions import db
from careplan.limits import json_depth
from careplan.patients.models import Patient


def _patients(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Patient))


def test_a_body_of_tens_of_megabytes_is_413_in_the_error_format(client, app, auth):
    body = json.dumps({"name": "Ann", "email": "ann@mail.example", "phone": "x" * 30_000_000})
    response = client.post("/api/v1/patients", data=body, content_type="application/json",
                           headers=auth("front_desk"))
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large" and str(app.config["MAX_CONTENT_LENGTH"]) in error["message"]
    assert _patients(app) == 0


@pytest.mark.parametrize("depth", [100, 500, 5000])
def test_json_nested_hundreds_deep_is_422(client, app, auth, depth):
    nested = '{"a": ' * depth + "1" + "}" * depth
    body = '{"name": "Ann", "email": "ann@mail.example", "phone": ' + nested + "}"
    response = client.post("/api/v1/patients", data=body, content_type="application/json",
                           headers=auth("front_desk"))
    assert response.status_code == 422, response.get_data(as_text=True)[:200]
    assert response.get_json()["error"]["fields"] == {"_body": f"at most {app.config['MAX_JSON_DEPTH']} levels of nesting"}
    assert _patients(app) == 0
    fhir = client.get("/fhir/Patient", data="[" * depth + "]" * depth, content_type="application/json",
                      headers=auth("admin"))
    assert fhir.status_code == 422 and fhir.get_json()["resourceType"] == "OperationOutcome"


def test_depth_counts_brackets_not_text():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}], "c": "\\"[["}') == 3
    assert json_depth(b'"just text"') == 0


def test_real_bodies_are_well_inside_the_limits(client, auth):
    """A protocol template, the deepest body the API takes, passes."""
    headers = auth("admin")
    template = client.get("/api/v1/protocols?region=lumbar&severity=moderate", headers=headers).get_json()
    assert json_depth(json.dumps(template).encode()) < 10
