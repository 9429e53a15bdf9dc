"""The care team's shared notes. Callers have already been checked for role and reach by the route's
`login_required`; the rules here are about the note itself (who wrote it, what it may point at)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from careplan.audit.service import note_denied, record
from careplan.auth.models import User
from careplan.clinic.service import discipline_codes
from careplan.db import utcnow
from careplan.errors import Forbidden, Invalid
from careplan.extensions import db
from careplan.notes.models import Note, NoteVersion
from careplan.notes.schemas import SOAP
from careplan.patients.service import get_patient
from careplan.providers.models import Provider
from careplan.scheduling.models import Appointment
from careplan.records import get_or_404


def list_notes(patient_id: int):
    """Newest care first. Reads are audited by the routes, which know what was actually shown."""
    get_patient(patient_id)
    return (select(Note).where(Note.patient_id == patient_id).order_by(Note.noted_at.desc(), Note.id.desc())
            .options(selectinload(Note.versions), selectinload(Note.author_provider)))


def get_note(note_id: int) -> Note:
    return get_or_404(Note, note_id, f"No note {note_id}.")


def _discipline(provider: Provider, requested: str | None) -> str:
    codes = provider.discipline_codes
    if requested is None:
        if len(codes) != 1:
            raise Invalid("Say which of your disciplines this note is for.", fields={"discipline": "required"})
        return codes[0]
    if requested not in discipline_codes():
        raise Invalid(f"No discipline {requested}.", fields={"discipline": "unknown discipline"})
    if requested not in codes:
        raise Invalid(f"You do not practise {requested}.", fields={"discipline": "not one of yours"})
    return requested


def write_note(patient_id: int, data: dict, *, author: User) -> Note:
    get_patient(patient_id)
    provider = db.session.get(Provider, author.provider_id)
    appointment_id = data.get("appointment_id")
    if appointment_id is not None:
        appointment = db.session.get(Appointment, appointment_id)
        if appointment is None or appointment.patient_id != patient_id:
            raise Invalid("That appointment is not one of this patient's.",
                          fields={"appointment_id": "not this patient's appointment"})
    now = utcnow()
    note = Note(patient_id=patient_id, author_user_id=author.id, author_provider_id=provider.id,
                discipline_code=_discipline(provider, data.get("discipline")), appointment_id=appointment_id,
                noted_at=data.get("noted_at") or now, created_at=now)
    note.versions.append(NoteVersion(number=1, written_at=now, reason="",
                                     **{part: data.get(part) or "" for part in SOAP}))
    db.session.add(note)
    db.session.flush()
    record("create", "note", note.id, patient_id)
    db.session.commit()
    return note


def amend_note(note_id: int, data: dict, *, author: User) -> Note:
    """A new version with the changed parts; the earlier ones stay as they were."""
    note = get_note(note_id)
    if note.author_user_id != author.id:
        note_denied("note", note.id, patient_id=note.patient_id, detail="not the author")
        raise Forbidden("Only the author of a note may amend it.")
    current = note.current
    text = {part: data[part] if part in data else getattr(current, part) for part in SOAP}
    if not any(value.strip() for value in text.values()):
        raise Invalid("A note needs at least one of subjective, objective, assessment, plan.",
                      fields={"subjective": "all parts empty"})
    note.versions.append(NoteVersion(number=current.number + 1, written_at=utcnow(), reason=data["reason"], **text))
    record("update", "note", note.id, note.patient_id, detail=f"version {current.number + 1}")
    db.session.commit()
    return note
