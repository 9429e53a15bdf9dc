"""/metrics: Prometheus' text format to an admin or the METRICS_TOKEN, 401 to anyone else; requests by route
and status, solves, the e-mail queue and the proposals' holds."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from careplan.db import utcnow
from careplan.extensions import db
from careplan.proposals import service as proposals
from careplan.reminders.models import OutboundEmail
from tests import factories


def _samples(response) -> dict[tuple, float]:
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Type"].count("charset") == 1, response.headers["Content-Type"]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


@pytest.fixture
def scrape(client, auth):
    admin = auth("admin")
    return lambda: _samples(client.get("/metrics", headers=admin))


def test_metrics_answer_an_admin_or_the_metrics_token_and_no_one_else(app, client, auth):
    assert client.get("/metrics").status_code == 401
    refused = client.get("/metrics", headers=auth("front_desk"))
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthenticated"
    assert client.get("/metrics", headers=auth("admin")).status_code == 200
    app.config["METRICS_TOKEN"] = "scraper-secret-1234"
    try:
        assert client.get("/metrics", headers={"Authorization": "Bearer scraper-secret-1234"}).status_code == 200
        assert client.get("/metrics", headers={"Authorization": "Bearer scraper-secret-12"}).status_code == 401
    finally:
        app.config["METRICS_TOKEN"] = None


def test_requests_are_counted_by_route_and_status_with_their_latency(client, auth, scrape):
    headers = auth("front_desk")
    route = (("method", "GET"), ("route", "/api/v1/providers/<int:provider_id>"), ("status", "404"))
    before = scrape().get(("careplan_http_requests_total", route), 0)
    for missing in (9001, 9002):
        assert client.get(f"/api/v1/providers/{missing}", headers=headers).status_code == 404
    after = scrape()
    assert after[("careplan_http_requests_total", route)] == before + 2
    latency = (("method", "GET"), ("route", "/api/v1/providers/<int:provider_id>"))
    assert after[("careplan_http_request_duration_seconds_count", latency)] >= 2
    assert after[("careplan_http_request_duration_seconds_bucket", (("le", "+Inf"),) + latency)] >= 2


def test_the_email_queue_depth_and_age(app, scrape):
    with app.app_context():
        patient = factories.patient()
        now = utcnow()
        for minutes_late, status in ((30, "pending"), (5, "pending"), (-60, "pending"), (90, "failed")):
            db.session.add(OutboundEmail(kind="booking-confirmation", patient_id=patient.id, payload={},
                                         due_at=now - timedelta(minutes=minutes_late), status=status))
        db.session.commit()
    samples = scrape()
    assert samples[("careplan_emails", (("status", "pending"),))] == 3
    assert samples[("careplan_emails", (("status", "failed"),))] == 1
    assert samples[("careplan_emails_due", ())] == 2
    assert 30 * 60 <= samples[("careplan_emails_oldest_due_seconds", ())] < 40 * 60
    assert samples[("careplan_webhook_deliveries", (("status", "pending"),))] == 0


def test_solves_and_the_holds_they_leave(app, scrape):
    before = scrape()
    with app.app_context():
        plan = factories.care_plan(factories.patient(), {"physiotherapy": factories.provider()},
                                   start=date(2027, 3, 1), status="draft")
        proposal = proposals.propose(plan.id, {"time_limit": 1.0, "deterministic": True}, caller=factories.CALLER)
        held = len(proposal.holds)
    after = scrape()
    outcomes = {k for k in after if k[0] == "careplan_solve_duration_seconds_count"}
    assert sum(after[k] for k in outcomes) == sum(before.get(k, 0) for k in outcomes) + 1
    assert after[("careplan_proposals_holding", ())] == 1
    assert after[("careplan_held_slots", ())] == held == 4
    assert after[("careplan_proposals_expiring", ())] in (0, 1)
