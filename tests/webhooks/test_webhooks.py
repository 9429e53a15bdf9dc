"""Signed webhooks, end to end: an admin registers a receiver on loopback, a booking queues the event in its
own transaction, a worker delivers it signed, a receiver that fails is retried with backoff, a killed
worker's delivery goes out once through another, and an admin sees and resends failures."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import select

from careplan.db import utcnow
from careplan.extensions import db
from careplan.webhooks import delivery
from careplan.webhooks.models import WebhookDelivery
from tests import factories
from tests.reminders.test_dispatch import REPOSITORY, clock, subprocess_env
from tests.webhooks.receiver import verify

START = "2027-03-15T09:00:00-04:00"


def _people(app) -> dict:
    with app.app_context():
        return {"provider_id": factories.provider(hours="mon-fri 08:00-16:00").id,
                "patient_id": factories.patient().id}


def _book(client, auth, people, start=START):
    return client.post("/api/v1/appointments", headers=auth("front_desk"),
                       json={**people, "discipline": "physiotherapy", "start": start, "minutes": 45})


# The tests call the worker and read the table in app contexts of their own, apart from the requests'.
def _deliveries(app) -> list[SimpleNamespace]:
    with app.app_context():
        table = WebhookDelivery.__table__
        rows = [SimpleNamespace(**row._mapping) for row in db.session.execute(select(table).order_by(table.c.id))]
        db.session.remove()
    return rows


def _deliver(app, now=utcnow):
    with app.app_context():
        result = delivery.deliver_due(now=now)
        db.session.remove()
    return result


def test_only_an_admin_registers_and_the_secret_is_shown_once(client, auth, receiver):
    refused = client.post("/api/v1/webhooks", headers=auth("front_desk"),
                          json={"url": receiver.url, "events": ["appointment.booked"]})
    assert refused.status_code == 403
    bad = client.post("/api/v1/webhooks", headers=auth("admin"), json={"url": "ftp://x", "events": ["nope"]})
    assert bad.status_code == 422 and {"url", "events[0]"} <= set(bad.get_json()["error"]["fields"])
    admin = auth("admin")
    created = client.post("/api/v1/webhooks", headers=admin, json={"url": receiver.url,
                                                                   "events": ["appointment.booked"]})
    assert created.status_code == 201 and created.get_json()["secret"].startswith("whsec_")
    assert created.headers["Location"].endswith(f"/api/v1/webhooks/{created.get_json()['id']}")
    read = client.get(created.headers["Location"], headers=admin).get_json()
    assert read["url"] == receiver.url and "secret" not in read


def test_a_booking_is_delivered_signed_and_the_receiver_verifies_it(app, client, auth, receiver, registered):
    endpoint = registered("appointment.booked", "appointment.cancelled")
    people = _people(app)
    booked = _book(client, auth, people)
    assert booked.status_code == 201
    # A booking refused (the slot is taken) tells nobody: the event lives in the booking's transaction.
    assert _book(client, auth, _people(app) | {"provider_id": people["provider_id"]}).status_code == 409
    [queued] = _deliveries(app)
    assert queued.status == "pending" and queued.event_type == "appointment.booked"

    result = _deliver(app)
    assert result.sent == [queued.id] and receiver.refused == 0
    [got] = receiver.received
    body = got["body"]
    assert set(body) == {"id", "type", "created_at", "data"} and body["type"] == "appointment.booked"
    assert body["id"] == queued.event_id and got["headers"]["X-Careplan-Event-Id"] == queued.event_id
    assert body["data"]["appointment_id"] == booked.get_json()["id"]
    assert body["data"]["start"] == "2027-03-15T09:00:00-04:00"
    assert _deliveries(app)[0].status == "sent" and _deliveries(app)[0].last_status_code == 200

    cancelled = client.patch(f"/api/v1/appointments/{body['data']['appointment_id']}", headers=auth("front_desk"),
                             json={"status": "cancelled"})
    assert cancelled.status_code == 200
    _deliver(app)
    assert [r["body"]["type"] for r in receiver.received] == ["appointment.booked", "appointment.cancelled"]
    listed = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries", headers=auth("admin")).get_json()
    assert [d["event_type"] for d in listed] == ["appointment.cancelled", "appointment.booked"]


def test_a_wrong_secret_or_an_old_timestamp_fails_the_receivers_check():
    from careplan.webhooks.service import sign

    body = b'{"id":"evt_1"}'
    header = sign("whsec_right", 1_800_000_000, body)
    assert verify("whsec_right", header, body, now=1_800_000_010)
    assert not verify("whsec_wrong", header, body, now=1_800_000_010)
    assert not verify("whsec_right", header, body + b" ", now=1_800_000_010)
    assert not verify("whsec_right", header, body, now=1_800_000_000 + 3600)


def test_a_failing_receiver_is_retried_with_backoff_then_failed_and_resent(app, client, auth, receiver,
                                                                           registered, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 3)
    endpoint = registered("appointment.booked")
    assert _book(client, auth, _people(app)).status_code == 201
    receiver.answer = 503
    t0 = utcnow()
    first = _deliver(app, now=clock(t0))
    [row] = _deliveries(app)
    assert first.retrying == [row.id] and row.next_attempt_at == t0 + timedelta(seconds=30)
    assert row.last_status_code == 503 and "HTTP 503" in row.last_error
    assert _deliver(app, now=clock(t0 + timedelta(seconds=29))).claimed == 0
    assert _deliver(app, now=clock(t0 + timedelta(seconds=31))).retrying == [row.id]
    # The second wait is twice the first.
    assert _deliver(app, now=clock(t0 + timedelta(seconds=31 + 59))).claimed == 0
    assert _deliver(app, now=clock(t0 + timedelta(seconds=31 + 61))).failed == [row.id]
    admin = auth("admin")
    failures = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries?status=failed", headers=admin).get_json()
    assert [(f["id"], f["attempts"]) for f in failures] == [(row.id, 3)]
    assert failures[0]["next_attempt_at"] is None, "no further attempt is coming"

    receiver.answer = 204
    assert client.post(f"/api/v1/webhooks/deliveries/{row.id}/resend", headers=admin).status_code == 202
    assert _deliver(app).sent == [row.id]
    [sent] = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries", headers=admin).get_json()
    assert sent["status"] == "sent" and sent["next_attempt_at"] is None
    # Every attempt carried the same event id, by which the receiver drops repeats.
    assert set(receiver.event_ids()) == {row.event_id} and len(receiver.received) == 4


CLAIM_THEN_DIE = textwrap.dedent("""
    import os, signal
    from careplan import create_app
    from careplan.db import utcnow
    from careplan.webhooks.delivery import claim
    app = create_app("testing")
    with app.app_context():
        print(len(claim("doomed-worker", now=utcnow(), limit=100)), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_killed_workers_delivery_is_delivered_once_by_another(app, client, auth, receiver, registered):
    registered("appointment.booked")
    assert _book(client, auth, _people(app)).status_code == 201
    doomed = subprocess.run([sys.executable, "-c", CLAIM_THEN_DIE], cwd=REPOSITORY, env=subprocess_env(app),
                            capture_output=True, text=True, timeout=60)
    assert doomed.returncode == -9 and doomed.stdout.strip() == "1", doomed.stderr
    [leased] = _deliveries(app)
    assert leased.lease_owner == "doomed-worker"
    # Another worker leaves it alone while the lease holds, and takes it over once it runs out.
    assert _deliver(app).claimed == 0
    taken_over = _deliver(app, now=clock(leased.lease_expires_at + timedelta(seconds=1)))
    assert taken_over.sent == [leased.id]
    assert _deliver(app, now=clock(leased.lease_expires_at + timedelta(hours=1))).claimed == 0
    assert receiver.event_ids() == [leased.event_id]
    assert _deliveries(app)[0].attempts == 2


def test_nobody_listening_queues_nothing_and_a_removed_endpoint_gets_nothing_more(app, client, auth,
                                                                                 receiver, registered):
    assert _book(client, auth, _people(app)).status_code == 201
    assert _deliveries(app) == []
    endpoint = registered("appointment.booked")
    assert _book(client, auth, _people(app), start="2027-03-16T09:00:00-04:00").status_code == 201
    assert client.delete(f"/api/v1/webhooks/{endpoint['id']}", headers=auth("admin")).status_code == 204
    assert [d.status for d in _deliveries(app)] == ["cancelled"]
    assert _book(client, auth, _people(app), start="2027-03-17T09:00:00-04:00").status_code == 201
    assert len(_deliveries(app)) == 1 and _deliver(app).claimed == 0 and receiver.received == []


def test_moves_no_shows_and_booked_proposals_are_told(app, client, auth, receiver, registered):
    registered("appointment.moved", "appointment.no_show", "plan.booked", "proposal.booked")
    people = _people(app)
    booked = _book(client, auth, people).get_json()
    desk = auth("front_desk")
    moved = client.patch(f"/api/v1/appointments/{booked['id']}", headers=desk,
                         json={"start": "2027-03-15T11:00:00-04:00"})
    assert moved.status_code == 200, moved.text
    with app.app_context():
        past = factories.appointment(patient=people["patient_id"], provider=people["provider_id"], days_ahead=-2)
        past_id = past.id
    assert client.patch(f"/api/v1/appointments/{past_id}", headers=desk, json={"status": "no_show"}).status_code == 200
    with app.app_context():
        from datetime import date

        from careplan.proposals import service as proposals

        plan = factories.care_plan(factories.patient(), {"physiotherapy": factories.provider()},
                                   start=date(2027, 3, 1), status="draft")
        proposal = proposals.propose(plan.id, {"time_limit": 1.0, "deterministic": True}, caller=factories.CALLER)
        proposals.book_proposal(proposal.id, caller=factories.CALLER)
        plan_id, proposal_id = plan.id, proposal.id
        db.session.remove()
    _deliver(app)
    by_type = {r["body"]["type"]: r["body"]["data"] for r in receiver.received}
    assert set(by_type) == {"appointment.moved", "appointment.no_show", "plan.booked", "proposal.booked"}
    assert by_type["appointment.moved"]["previous_start"] == "2027-03-15T09:00:00-04:00"
    assert by_type["appointment.moved"]["start"] == "2027-03-15T11:00:00-04:00"
    assert by_type["appointment.no_show"]["appointment_id"] == past_id
    assert by_type["plan.booked"]["plan_id"] == plan_id and len(by_type["plan.booked"]["appointment_ids"]) == 4
    assert by_type["proposal.booked"]["proposal_id"] == proposal_id and by_type["proposal.booked"]["kind"] == "plan"
    assert receiver.refused == 0


def test_the_admin_page_shows_failures_and_resends(app, client, auth, receiver, registered, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 1)
    registered("appointment.booked")
    assert _book(client, auth, _people(app)).status_code == 201
    receiver.answer = 500
    _deliver(app)
    [failed] = _deliveries(app)
    admin = auth("admin")
    page = client.get("/admin/webhooks", headers=admin)
    assert page.status_code == 200
    assert receiver.url in page.text and f'id="delivery-{failed.id}"' in page.text and "Failed" in page.text
    assert "HTTP 500" in page.text
    assert client.get("/admin/webhooks", headers=auth("front_desk")).status_code == 403
    assert "Before the resend" not in page.text
    resent = client.post(f"/admin/webhooks/deliveries/{failed.id}/resend", headers=admin)
    assert resent.status_code == 302
    # Queued again with a fresh count: the answer shown is the one before the resend, and says so.
    queued = client.get("/admin/webhooks", headers=admin).text
    row = queued.split(f'id="delivery-{failed.id}"')[1].split("</tr>")[0]
    assert "Pending" in row and "<td>0</td>" in row and "Before the resend:" in row and "HTTP 500" in row
    receiver.answer = 200
    assert _deliver(app).sent == [failed.id]


def test_a_batch_slower_than_its_lease_posts_no_more_of_it(app, client, auth, receiver, registered, monkeypatch):
    """Once a batch's lease has run out another worker may have claimed its deliveries: the batch posts none of
    them after that, and the next worker posts them, each once."""
    registered("appointment.booked")
    people = _people(app)
    assert _book(client, auth, people).status_code == 201
    assert _book(client, auth, people, start="2027-03-16T09:00:00-04:00").status_code == 201
    t0 = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)
    lease = app.config["WEBHOOK_LEASE_SECONDS"]
    # The batch's clock: its first delivery goes at once, then a slow receiver takes longer than the lease.
    ticks = iter([0.0, 0.0])
    monkeypatch.setattr(delivery, "monotonic", lambda: next(ticks, lease + 1.0))
    slow = _deliver(app, now=clock(t0))
    monkeypatch.undo()
    assert len(slow.sent) == 1 and len(slow.withdrawn) == 1
    later = _deliver(app, now=clock(t0 + timedelta(seconds=lease + 2)))
    assert later.sent == slow.withdrawn
    assert sorted(receiver.event_ids()) == sorted(d.event_id for d in _deliveries(app))
    assert len(receiver.event_ids()) == 2
