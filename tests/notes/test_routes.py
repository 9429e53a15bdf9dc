"""The care team's shared notes: who reads and writes them, amendments that keep history, and the audit."""
from __future__ import annotations

from sqlalchemy import func, select

from careplan.audit.models import AuditEvent
from careplan.extensions import db
from careplan.patients.models import Patient
from tests import factories


def _team(app):
    """A patient with a physiotherapist and a massage therapist on the team, and a provider off it."""
    with app.app_context():
        patient = factories.patient()
        physio = factories.provider(disciplines=("physiotherapy",))
        massage = factories.provider(disciplines=("massage",))
        outsider = factories.provider(disciplines=("physiotherapy",))
        factories.appointment(patient.id, physio.id)
        factories.appointment(patient.id, massage.id, discipline="massage", days_ahead=8)
        users = {name: factories.user("provider", provider_id=p.id)
                 for name, p in (("physio", physio), ("massage", massage), ("outsider", outsider))}
        headers = {name: factories.bearer(user) for name, user in users.items()}
        return patient.id, headers


def _audit_rows(app, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(AuditEvent)
        for column, value in where.items():
            query = query.where(getattr(AuditEvent, column) == value)
        return db.session.scalar(query)


def _write(client, headers, patient_id, **fields):
    body = {"subjective": "Sleeps better.", "objective": "SLR 60 degrees left.", "assessment": "Improving.",
            "plan": "Continue twice weekly."}
    body.update(fields)
    return client.post(f"/api/v1/patients/{patient_id}/notes", headers=headers, json=body)


def test_the_team_reads_every_disciplines_notes_newest_first(app, client):
    patient_id, headers = _team(app)
    physio_note = _write(client, headers["physio"], patient_id, noted_at="2026-03-02T10:00:00-05:00")
    assert physio_note.status_code == 201
    assert physio_note.get_json()["discipline"] == "physiotherapy"
    massage_note = _write(client, headers["massage"], patient_id, noted_at="2026-03-03T10:00:00-05:00")
    assert massage_note.status_code == 201
    for reader in ("physio", "massage"):
        notes = client.get(f"/api/v1/patients/{patient_id}/notes", headers=headers[reader]).get_json()
        assert [n["discipline"] for n in notes] == ["massage", "physiotherapy"]
        assert notes[1]["objective"] == "SLR 60 degrees left." and notes[1]["author_name"]


def test_a_provider_off_the_team_gets_404_and_it_is_audited(app, client):
    patient_id, headers = _team(app)
    note_id = _write(client, headers["physio"], patient_id).get_json()["id"]
    before = _audit_rows(app, action="denied", patient_id=patient_id)
    assert client.get(f"/api/v1/patients/{patient_id}/notes", headers=headers["outsider"]).status_code == 404
    assert client.get(f"/api/v1/notes/{note_id}", headers=headers["outsider"]).status_code == 404
    assert _write(client, headers["outsider"], patient_id).status_code == 404
    assert _audit_rows(app, action="denied", patient_id=patient_id) == before + 3


def test_front_desk_admin_and_patient_never_see_notes(app, client, auth):
    patient_id, headers = _team(app)
    note_id = _write(client, headers["physio"], patient_id).get_json()["id"]
    for role in ("front_desk", "admin"):
        role_headers = auth(role)
        assert client.get(f"/api/v1/patients/{patient_id}/notes", headers=role_headers).status_code == 403
        assert client.get(f"/api/v1/notes/{note_id}", headers=role_headers).status_code == 403
        assert _write(client, role_headers, patient_id).status_code == 403
    own = auth("patient", patient_id=patient_id)
    assert client.get(f"/api/v1/patients/{patient_id}/notes", headers=own).status_code == 403


def test_every_read_leaves_an_audit_row(app, client):
    patient_id, headers = _team(app)
    note_id = _write(client, headers["physio"], patient_id).get_json()["id"]
    assert _audit_rows(app, action="create", resource="note") == 1
    client.get(f"/api/v1/patients/{patient_id}/notes", headers=headers["massage"])
    client.get(f"/api/v1/notes/{note_id}", headers=headers["massage"])
    assert _audit_rows(app, action="read", resource="note", patient_id=patient_id) == 2
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "read")).all()
        assert all(row.user_id and row.role == "provider" and row.remote_addr for row in rows)
        assert any(row.resource_id == str(note_id) for row in rows)


def test_the_author_amends_and_every_version_stays_readable(app, client):
    patient_id, headers = _team(app)
    note_id = _write(client, headers["physio"], patient_id).get_json()["id"]
    amended = client.patch(f"/api/v1/notes/{note_id}", headers=headers["physio"],
                           json={"objective": "SLR 70 degrees left.", "reason": "measured again"})
    assert amended.status_code == 200
    body = amended.get_json()
    assert body["version"] == 2 and body["objective"] == "SLR 70 degrees left."
    assert body["assessment"] == "Improving." and body["amended_at"]
    assert [v["objective"] for v in body["versions"]] == ["SLR 60 degrees left.", "SLR 70 degrees left."]
    assert body["versions"][1]["reason"] == "measured again"
    read = client.get(f"/api/v1/notes/{note_id}", headers=headers["massage"]).get_json()
    assert len(read["versions"]) == 2
    not_author = client.patch(f"/api/v1/notes/{note_id}", headers=headers["massage"],
                              json={"plan": "Stop.", "reason": "disagree"})
    assert not_author.status_code == 403
    assert client.delete(f"/api/v1/notes/{note_id}", headers=headers["physio"]).status_code == 405


def test_a_note_points_only_at_this_patients_appointment_and_the_authors_discipline(app, client):
    patient_id, headers = _team(app)
    with app.app_context():
        other = factories.patient()
        provider_id = factories.provider().id
        elsewhere = factories.appointment(other.id, provider_id).id
    wrong = _write(client, headers["physio"], patient_id, appointment_id=elsewhere)
    assert wrong.status_code == 422 and "appointment_id" in wrong.get_json()["error"]["fields"]
    not_mine = _write(client, headers["physio"], patient_id, discipline="massage")
    assert not_mine.status_code == 422 and "discipline" in not_mine.get_json()["error"]["fields"]
    empty = client.post(f"/api/v1/patients/{patient_id}/notes", headers=headers["physio"], json={"plan": " "})
    assert empty.status_code == 422


def test_a_patient_with_notes_is_not_deleted(app, client, auth):
    patient_id, headers = _team(app)
    _write(client, headers["physio"], patient_id)
    assert client.delete(f"/api/v1/patients/{patient_id}", headers=auth("admin")).status_code == 409


def test_a_provider_on_the_team_through_a_plan_alone_reads_every_disciplines_notes(app, client, auth):
    """The care team is also the plan's team: an acupuncturist named on the plan, with no appointment yet,
    reads the physiotherapist's and the massage therapist's notes; a provider on another patient's plan
    does not, and front desk never does. Each read and each refusal is in the trail as a `note`."""
    patient_id, headers = _team(app)
    _write(client, headers["physio"], patient_id)
    _write(client, headers["massage"], patient_id)
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        acupuncturist = factories.provider(disciplines=("acupuncture",))
        elsewhere = factories.provider(disciplines=("acupuncture",))
        factories.care_plan(patient, {"acupuncture": acupuncturist})
        factories.care_plan(factories.patient(), {"acupuncture": elsewhere})
        on_plan = factories.bearer(factories.user("provider", provider_id=acupuncturist.id))
        other_plan = factories.bearer(factories.user("provider", provider_id=elsewhere.id))
    reads = _audit_rows(app, action="read", resource="note", patient_id=patient_id)
    notes = client.get(f"/api/v1/patients/{patient_id}/notes", headers=on_plan)
    assert notes.status_code == 200
    assert sorted(n["discipline"] for n in notes.get_json()) == ["massage", "physiotherapy"]
    for note in notes.get_json():
        assert client.get(f"/api/v1/notes/{note['id']}", headers=on_plan).status_code == 200
        assert client.get(f"/api/v1/notes/{note['id']}", headers=other_plan).status_code == 404
        assert client.get(f"/api/v1/notes/{note['id']}", headers=auth("front_desk")).status_code in (403, 404)
    assert client.get(f"/api/v1/patients/{patient_id}/notes", headers=other_plan).status_code == 404
    assert _audit_rows(app, action="read", resource="note", patient_id=patient_id) == reads + 3
    assert _audit_rows(app, action="denied", resource="note", patient_id=patient_id) == 3
    assert _audit_rows(app, action="denied", resource="note") == 5
