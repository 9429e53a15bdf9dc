"""A clinician writes a SOAP note on a care-team patient's page and reads the team's notes, newest first."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from careplan.audit.models import AuditEvent
from careplan.extensions import db
from careplan.notes.models import Note
from tests import factories
from tests.web.conftest import book


def test_a_clinician_writes_a_note_and_sees_the_team_s_notes_newest_first(client, app, auth):
    with app.app_context():
        physio = factories.provider(name="Ana Moreau").id
        patient = factories.patient(name="Martha Kowalski").id
        book(patient, physio, "physiotherapy", datetime(2027, 1, 12, 14, tzinfo=UTC))
    me = auth("provider", provider_id=physio)
    empty = client.post(f"/me/patients/{patient}", headers=me, data={"subjective": " ", "plan": ""})
    assert empty.status_code == 422 and "a note needs at least one of" in empty.text
    for words in ("Pain 6/10, sleeping better.", "Pain 4/10 after the walk."):
        saved = client.post(f"/me/patients/{patient}", headers=me,
                            data={"subjective": words, "assessment": "Improving."})
        assert saved.status_code == 302
    listed = client.get("/me/patients", headers=me).text
    assert f'href="/me/patients/{patient}">Martha Kowalski' in listed
    page = client.get(f"/me/patients/{patient}", headers=me).text
    assert page.index("Pain 4/10 after the walk.") < page.index("Pain 6/10, sleeping better.")
    with app.app_context():
        assert db.session.scalars(select(Note)).all()[0].discipline_code == "physiotherapy"
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "read",
                                                            AuditEvent.resource == "note")).all()
        assert reads and reads[-1].patient_id == patient
