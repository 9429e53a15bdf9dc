"""The audit trail: what is written, that refusals survive their rollback, that nothing rewrites it, search."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from careplan.audit.models import AuditEvent
from careplan.audit.service import record
from careplan.extensions import db
from tests import factories


def _events(app, **where):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        for column, value in where.items():
            query = query.where(getattr(AuditEvent, column) == value)
        return [(e.action, e.resource, e.resource_id, e.patient_id, e.role) for e in db.session.scalars(query)]


def test_patient_reads_and_changes_are_recorded(app, client, auth):
    desk = auth("front_desk")
    created = client.post("/api/v1/patients", headers=desk, json={"name": "Ana Lima", "email": "ana@mail.example"})
    patient_id = created.get_json()["id"]
    client.get(f"/api/v1/patients/{patient_id}", headers=desk)
    client.patch(f"/api/v1/patients/{patient_id}", headers=desk, json={"phone": "416-555-0101"})
    client.get(f"/api/v1/patients/{patient_id}", headers=auth("patient", patient_id=patient_id))
    assert _events(app, patient_id=patient_id) == [
        ("create", "patient", str(patient_id), patient_id, "front_desk"),
        ("read", "patient", str(patient_id), patient_id, "front_desk"),
        ("update", "patient", str(patient_id), patient_id, "front_desk"),
        ("read", "patient", str(patient_id), patient_id, "patient"),
    ]


def test_a_refusal_is_kept_though_its_request_is_rolled_back(app, client, auth):
    with app.app_context():
        patient_id = factories.patient().id
    assert client.get(f"/api/v1/patients/{patient_id}").status_code == 401
    stranger = auth("provider")
    assert client.get(f"/api/v1/patients/{patient_id}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/patients/{patient_id + 1}", headers=auth("patient", patient_id=patient_id)
                      ).status_code == 404
    assert client.get("/api/v1/audit", headers=auth("front_desk")).status_code == 403
    denied = _events(app, action="denied")
    assert [(role, patient) for _, _, _, patient, role in denied] == [
        ("", None), ("provider", patient_id), ("patient", patient_id + 1), ("front_desk", None)]


def test_the_database_refuses_to_rewrite_the_trail(app):
    with app.app_context():
        record("read", "patient", 1, 1, caller=factories.CALLER)
        db.session.commit()
        for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalar(select(AuditEvent.action)) == "read"


def test_admins_search_the_trail_with_paging(app, client, auth):
    with app.app_context():
        first, second = factories.patient().id, factories.patient().id
    desk = auth("front_desk")
    for patient_id in (first, second, first):
        client.get(f"/api/v1/patients/{patient_id}", headers=desk)
    admin = auth("admin")
    found = client.get(f"/api/v1/audit?patient_id={first}&action=read&page_size=1", headers=admin)
    assert found.status_code == 200
    assert len(found.get_json()) == 1 and found.get_json()[0]["patient_id"] == first
    assert json.loads(found.headers["X-Pagination"])["total"] == 2
    everything = client.get("/api/v1/audit?resource=patient&action=read", headers=admin).get_json()
    assert [e["patient_id"] for e in everything] == [first, second, first]
    latest = everything[0]["at"]
    window = client.get("/api/v1/audit", headers=admin,
                        query_string={"from": latest, "to": "2100-01-01T00:00:00+00:00", "resource": "patient"})
    assert all(e["at"] >= latest for e in window.get_json()) and window.get_json()
    naive = client.get("/api/v1/audit?from=2026-01-01T00:00:00", headers=admin)
    assert naive.status_code == 422 and "from" in naive.get_json()["error"]["fields"]
