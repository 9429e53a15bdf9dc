"""Security headers on every answer, and no copy of health information kept by any cache.

The Content-Security-Policy is also checked in a real browser (tests/web/test_content_security.py): there
the pages, as each role sees them, must raise no violation.
"""
from urllib.parse import urlsplit

import pytest

from careplan.reminders.links import link_url
from tests import factories


def _policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


def _check_security_headers(response):
    policy = _policy(response)
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # E-mail links carry their token in the URL: it must not leave in a Referer.
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.fixture
def urls(app):
    """A path of each kind of answer, each carrying a patient's health information or the way to it."""
    with app.app_context():
        appointment = factories.appointment()
        link = urlsplit(link_url(appointment, "confirm")).path
        return {"patient": appointment.patient_id, "link": link}


def test_api_fhir_pages_and_errors_carry_the_headers_and_are_never_stored(client, auth, urls):
    desk = auth("front_desk")
    answers = [
        client.get(f"/api/v1/patients/{urls['patient']}", headers=desk),
        client.get(f"/api/v1/patients/{urls['patient']}/nothing-here", headers=desk),
        client.patch(f"/api/v1/patients/{urls['patient']}", headers=desk, json={"name": ""}),
        client.get(f"/fhir/Patient/{urls['patient']}", headers=desk),
        client.get(f"/desk/patients/{urls['patient']}", headers=desk),
        client.get("/desk/no-such-page", headers=desk),
        client.get(urls["link"]),
        client.get("/login"),
        client.get("/api/docs"),
        client.get("/api/openapi.json"),
        client.get("/healthz"),
    ]
    for response in answers:
        assert response.status_code < 500, response.request.path
        _check_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store", response.request.path


def test_a_calendar_feed_is_never_stored_either(client, auth, app):
    with app.app_context():
        patient = factories.patient()
        patient_id = patient.id
    headers = auth("patient", patient_id=patient_id)
    created = client.post(f"/api/v1/patients/{patient_id}/calendar-feed", headers=headers)
    assert created.status_code in (200, 201), created.get_json()
    feed = client.get(urlsplit(created.get_json()["url"]).path)
    assert feed.status_code == 200 and feed.headers["Cache-Control"] == "no-store"
    _check_security_headers(feed)


def test_static_files_keep_their_own_caching_but_carry_the_headers(client):
    for path in ("/static/careplan.css", "/static/careplan.js", "/api/docs/static/swagger-ui-bundle.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("Cache-Control", ""), path
        _check_security_headers(response)
