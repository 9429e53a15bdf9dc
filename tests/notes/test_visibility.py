"""Who reads a note: the author chooses the team, their discipline or only themselves; psychotherapy notes
default to the psychotherapists on the team. Every read path honours it, and a refused read is audited."""
from __future__ import annotations

import re

from sqlalchemy import select

from careplan.audit.models import AuditEvent
from careplan.extensions import db
from tests import factories


def _team(app):
    """A patient whose care team has two psychotherapists, a physiotherapist and a clinician of both."""
    with app.app_context():
        patient = factories.patient()
        providers = {"psy": factories.provider(disciplines=("psychotherapy",)),
                     "psy2": factories.provider(disciplines=("psychotherapy",)),
                     "physio": factories.provider(disciplines=("physiotherapy",)),
                     "both": factories.provider(disciplines=("physiotherapy", "psychotherapy"))}
        for days, provider in enumerate(providers.values(), start=7):
            factories.appointment(patient.id, provider.id, days_ahead=days)
        users = {name: factories.user("provider", provider_id=p.id) for name, p in providers.items()}
        return patient.id, {name: factories.bearer(user) for name, user in users.items()}, \
            {name: user.id for name, user in users.items()}


def _write(client, headers, patient_id, **fields):
    body = {"subjective": "Ruminates at night about the pain.", "assessment": "Pain-related anxiety."}
    body.update(fields)
    response = client.post(f"/api/v1/patients/{patient_id}/notes", headers=headers, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _listed(client, headers, patient_id) -> set[int]:
    response = client.get(f"/api/v1/patients/{patient_id}/notes", headers=headers)
    assert response.status_code == 200
    return {note["id"] for note in response.get_json()}


def _denied(app, note_id) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "denied", AuditEvent.resource == "note", AuditEvent.resource_id == str(note_id))))


def test_psychotherapy_notes_default_to_the_psychotherapists_and_others_to_the_team(app, client):
    patient_id, headers, _ = _team(app)
    psy_note = _write(client, headers["psy"], patient_id)
    physio_note = _write(client, headers["physio"], patient_id, subjective="Leg pain 3/10.")
    assert psy_note["visibility"] == "discipline" and physio_note["visibility"] == "team"

    assert _listed(client, headers["psy2"], patient_id) == {psy_note["id"], physio_note["id"]}
    assert _listed(client, headers["both"], patient_id) == {psy_note["id"], physio_note["id"]}
    assert _listed(client, headers["physio"], patient_id) == {physio_note["id"]}
    assert client.get(f"/api/v1/notes/{psy_note['id']}", headers=headers["psy2"]).status_code == 200
    refused = client.get(f"/api/v1/notes/{psy_note['id']}", headers=headers["physio"])
    assert refused.status_code == 404 and "Ruminates" not in refused.get_data(as_text=True)
    [denied] = _denied(app, psy_note["id"])
    assert denied.patient_id == patient_id and "psychotherapy" in denied.detail


def test_the_author_chooses_only_themselves_or_the_whole_team(app, client):
    patient_id, headers, _ = _team(app)
    private = _write(client, headers["psy"], patient_id, visibility="author")
    shared = _write(client, headers["psy"], patient_id, visibility="team", subjective="Sleeps better.")
    assert _listed(client, headers["psy"], patient_id) == {private["id"], shared["id"]}
    for other in ("psy2", "physio", "both"):
        assert _listed(client, headers[other], patient_id) == {shared["id"]}
        assert client.get(f"/api/v1/notes/{private['id']}", headers=headers[other]).status_code == 404
    assert len(_denied(app, private["id"])) == 3


def test_amending_is_refused_as_missing_to_a_clinician_who_may_not_read_and_the_author_may_widen_it(app, client):
    patient_id, headers, _ = _team(app)
    note = _write(client, headers["psy"], patient_id)
    change = {"assessment": "Anxiety easing.", "reason": "Second session."}
    assert client.patch(f"/api/v1/notes/{note['id']}", headers=headers["physio"], json=change).status_code == 404
    assert client.patch(f"/api/v1/notes/{note['id']}", headers=headers["psy2"], json=change).status_code == 403
    widened = client.patch(f"/api/v1/notes/{note['id']}", headers=headers["psy"],
                           json={**change, "visibility": "team"})
    assert widened.status_code == 200 and widened.get_json()["visibility"] == "team"
    # Every version becomes readable to the team with it, the first one included.
    read = client.get(f"/api/v1/notes/{note['id']}", headers=headers["physio"]).get_json()
    assert [v["assessment"] for v in read["versions"]] == ["Pain-related anxiety.", "Anxiety easing."]


def test_an_unknown_visibility_is_refused_naming_the_field(app, client):
    patient_id, headers, _ = _team(app)
    response = client.post(f"/api/v1/patients/{patient_id}/notes", headers=headers["psy"],
                           json={"subjective": "x", "visibility": "everyone"})
    assert response.status_code == 422 and "visibility" in response.get_json()["error"]["fields"]


def test_a_discipline_default_is_clinic_data(app, client, auth):
    patient_id, headers, _ = _team(app)
    admin = auth("admin")
    changed = client.patch("/api/v1/disciplines/physiotherapy", headers=admin,
                           json={"note_visibility": "discipline"})
    assert changed.status_code == 200 and changed.get_json()["note_visibility"] == "discipline"
    note = _write(client, headers["physio"], patient_id, subjective="Leg pain 3/10.")
    assert note["visibility"] == "discipline"
    assert note["id"] not in _listed(client, headers["psy"], patient_id)


def test_the_clinicians_page_shows_only_readable_notes_and_offers_the_choice(app, client):
    patient_id, headers, _ = _team(app)
    psy_note = _write(client, headers["psy"], patient_id, subjective="Ruminates at night about the pain.")
    page = client.get(f"/me/patients/{patient_id}", headers=headers["physio"]).text
    assert "Ruminates" not in page
    assert re.search(r'<select id="visibility" name="visibility"', page)
    assert "Ruminates" in client.get(f"/me/patients/{patient_id}", headers=headers["psy2"]).text
    saved = client.post(f"/me/patients/{patient_id}", headers=headers["physio"],
                        data={"subjective": "Walks 20 minutes.", "visibility": "author"})
    assert saved.status_code == 302
    assert _listed(client, headers["psy"], patient_id) == {psy_note["id"]}
    assert "Walks 20 minutes." in client.get(f"/me/patients/{patient_id}", headers=headers["physio"]).text
