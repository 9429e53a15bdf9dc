"""Pages take only the query parameters they declare, and name a value they cannot use: a 400 page, never a
500, never a page quietly showing something other than what was asked for."""
import re

import pytest

from careplan.page_query import PAGE_BLUEPRINTS, QUERY_ATTRIBUTE
from tests import factories

# Who opens each family of pages (the check runs before the view, so any id in the path will do).
ROLE_OF = (("/me/", "provider"), ("/my/", "patient"), ("/admin/", "admin"), ("/desk", "front_desk"))


def _page_paths(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in PAGE_BLUEPRINTS or "GET" not in rule.methods:
            continue
        path = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        yield rule.endpoint, path


def _headers_for(path, auth):
    role = next((role for prefix, role in ROLE_OF if path.startswith(prefix)), "admin")
    return auth(role)


def test_every_page_refuses_a_parameter_it_does_not_take(app, client, auth):
    paths = list(_page_paths(app))
    assert len(paths) >= 25
    for endpoint, path in paths:
        response = client.get(f"{path}?patiend_id=3", headers=_headers_for(path, auth))
        assert response.status_code == 400, (endpoint, response.status_code)
        assert response.mimetype == "text/html"
        assert "patiend_id" in response.text, endpoint
        assert "That request could not be used" in response.text


def test_the_parameters_a_page_declares_are_the_ones_it_is_linked_with(app, client, auth):
    declared = {endpoint: getattr(app.view_functions[endpoint], QUERY_ATTRIBUTE, frozenset())
                for endpoint, _ in _page_paths(app)}
    assert declared["web.desk_today"] == {"day"}
    assert declared["web.desk_calendar"] == {"date", "discipline", "provider", "location", "page"}
    assert declared["auth_web.login"] == {"next"}
    assert declared["web.my_appointments"] == frozenset()
    desk = auth("front_desk")
    for path in ("/desk?day=2027-03-01", "/desk/patients?q=ann", "/desk/calendar?date=2027-03-01&discipline=massage",
                 "/desk/appointments/new?start=2027-03-01T09:00&minutes=50", "/admin/providers?show=all"):
        assert client.get(path, headers=desk).status_code == 200, path
    assert client.get("/login?next=/desk").status_code == 200
    admin = auth("admin")
    assert client.get("/admin/users?role=provider&q=a", headers=admin).status_code == 200
    assert client.get("/admin/audit?resource=patient&action=read", headers=admin).status_code == 200
    assert client.get("/me/week?day=2027-03-01", headers=auth("provider")).status_code == 200


@pytest.mark.parametrize("path, role, name", [
    ("/desk?day=soon", "front_desk", "day"),
    ("/desk?day=0001-01-01", "front_desk", "day"),
    ("/desk?day=9999-12-31", "front_desk", "day"),
    ("/me/day?day=0001-01-01", "provider", "day"),
    ("/me/week?day=9999-12-31", "provider", "day"),
    ("/desk/calendar?date=9999-12-31", "front_desk", "date"),
    ("/desk/calendar?date=2027-02-30", "front_desk", "date"),
    ("/desk/calendar?provider=abc", "front_desk", "provider"),
    ("/desk/calendar?provider=%C2%B2", "front_desk", "provider"),
    ("/desk/calendar?provider=99999999999", "front_desk", "provider"),
    ("/desk/calendar?page=two", "front_desk", "page"),
    ("/desk/calendar?location=-1", "front_desk", "location"),
    ("/admin/users?role=king", "admin", "role"),
    ("/admin/providers?show=deleted", "admin", "show"),
    ("/desk/plans/{plan}/schedule?proposal=latest", "front_desk", "proposal"),
])
def test_a_value_a_page_cannot_use_answers_the_400_page_naming_it(app, client, auth, path, role, name):
    if "{plan}" in path:
        with app.app_context():
            patient = factories.patient()
            path = path.format(plan=factories.care_plan(patient, {}, status="draft").id)
    response = client.get(path, headers=auth(role))
    assert response.status_code == 400, response.status_code
    assert response.mimetype == "text/html"
    assert f"parameter {name}" in response.text
