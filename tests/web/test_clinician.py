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


def test_a_clinician_amends_their_own_note_and_every_version_stays(client, app, auth):
    with app.app_context():
        physio = factories.provider(name="Ana Moreau").id
        colleague = factories.provider(name="Marc Tremblay", disciplines=("massage",)).id
        patient = factories.patient(name="Martha Kowalski").id
        book(patient, physio, "physiotherapy", datetime(2027, 1, 12, 14, tzinfo=UTC))
        book(patient, colleague, "massage", datetime(2027, 1, 13, 14, tzinfo=UTC))
    me = auth("provider", provider_id=physio)
    client.post(f"/me/patients/{patient}", headers=me, data={"subjective": "Pain 6/10."})
    with app.app_context():
        note_id = db.session.scalar(select(Note.id))
    page = client.get(f"/me/patients/{patient}", headers=me).text
    assert f'action="/me/notes/{note_id}/amend"' in page
    refused = client.post(f"/me/notes/{note_id}/amend", headers=me, data={"subjective": "Pain 5/10.", "reason": ""})
    assert refused.status_code == 422 and "Amend this note" in refused.text
    amended = client.post(f"/me/notes/{note_id}/amend", headers=me,
                          data={"subjective": "Pain 5/10.", "reason": "Misread the scale."})
    assert amended.status_code == 302
    page = client.get(f"/me/patients/{patient}", headers=me).text
    assert "amended (version 2)" in page and "Earlier versions (1)" in page and "Pain 6/10." in page
    assert "Misread the scale." in page
    # A colleague on the care team reads the history but cannot amend someone else's note.
    other = auth("provider", provider_id=colleague)
    theirs = client.get(f"/me/patients/{patient}", headers=other).text
    assert "Earlier versions (1)" in theirs and f'action="/me/notes/{note_id}/amend"' not in theirs
    assert client.post(f"/me/notes/{note_id}/amend", headers=other,
                       data={"subjective": "x", "reason": "y"}).status_code == 403
