"""The care team's shared notes. Callers have already been checked for role and reach by the route's
`login_required`; the rules here are about the note itself: who wrote it, who may read it (its visibility),
what it may point at. A note the caller may not read does not exist for them (404, audited as refused)."""
from __future__ import annotations

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import selectinload

from careplan.audit.service import note_denied, record
from careplan.caller import Caller
from careplan.clinic.models import Discipline
from careplan.clinic.service import discipline_codes
from careplan.db import utcnow
from careplan.errors import Forbidden, Invalid, NotFound
from careplan.extensions import db
from careplan.notes.models import Note, NoteVersion
from careplan.notes.schemas import SOAP
from careplan.patients.service import get_patient
from careplan.providers.models import Provider
from careplan.scheduling.models import Appointment
from careplan.records import get_or_404


def _readable_by(caller: Caller):
    """The condition on notes this caller may read, whatever their reach: their own, the team's, and those
    kept to a discipline they practise. Reach (the patient's care team) is the route's check."""
    user = caller.user
    if user is None or user.provider_id is None:
        return false()
    provider = db.session.get(Provider, user.provider_id)
    mine = provider.discipline_codes if provider is not None else []
    return or_(Note.author_user_id == user.id, Note.visibility == "team",
               and_(Note.visibility == "discipline", Note.discipline_code.in_(mine)))


def may_read(note: Note, caller: Caller) -> bool:
    if caller.user is None:
        return False
    if note.author_user_id == caller.user_id or note.visibility == "team":
        return True
    provider = db.session.get(Provider, caller.user.provider_id) if caller.user.provider_id else None
    return (note.visibility == "discipline" and provider is not None
            and note.discipline_code in provider.discipline_codes)


def list_notes(patient_id: int, *, caller: Caller):
    """The notes of this patient the caller may read, newest care first. Reads are audited by the routes,
    which know what was actually shown."""
    get_patient(patient_id)
    return (select(Note).where(Note.patient_id == patient_id, _readable_by(caller))
            .order_by(Note.noted_at.desc(), Note.id.desc())
            .options(selectinload(Note.versions), selectinload(Note.author_provider)))


def get_note(note_id: int) -> Note:
    return get_or_404(Note, note_id, f"No note {note_id}.")


def _readable_note(note_id: int, caller: Caller) -> Note:
    note = get_note(note_id)
    if not may_read(note, caller):
        note_denied("note", note.id, patient_id=note.patient_id,
                    detail=f"kept to {'its author' if note.visibility == 'author' else note.discipline_code}",
                    caller=caller)
        raise NotFound(f"No note {note_id}.")
    return note


def read_note(note_id: int, *, caller: Caller) -> Note:
    """The note with every version, when the caller may read it; the read is audited."""
    note = _readable_note(note_id, caller)
    record("read", "note", note.id, note.patient_id, detail=f"with {len(note.versions)} versions", caller=caller)
    return note


def default_visibility(discipline_code: str) -> str:
    row = db.session.get(Discipline, discipline_code)
    return row.note_visibility if row is not None else "team"


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


def write_note(patient_id: int, data: dict, *, caller: Caller) -> Note:
    get_patient(patient_id)
    author = caller.user
    provider = db.session.get(Provider, author.provider_id)
    appointment_id = data.get("appointment_id")
    if appointment_id is not None:
        appointment = db.session.get(Appointment, appointment_id)
        if appointment is None or appointment.patient_id != patient_id:
            raise Invalid("That appointment is not one of this patient's.",
                          fields={"appointment_id": "not this patient's appointment"})
    now = utcnow()
    discipline = _discipline(provider, data.get("discipline"))
    note = Note(patient_id=patient_id, author_user_id=author.id, author_provider_id=provider.id,
                discipline_code=discipline, appointment_id=appointment_id,
                visibility=data.get("visibility") or default_visibility(discipline),
                noted_at=data.get("noted_at") or now, created_at=now)
    note.versions.append(NoteVersion(number=1, written_at=now, reason="",
                                     **{part: data.get(part) or "" for part in SOAP}))
    db.session.add(note)
    db.session.flush()
    record("create", "note", note.id, patient_id, detail=f"visible to {note.visibility}", caller=caller)
    db.session.commit()
    return note


def amend_note(note_id: int, data: dict, *, caller: Caller) -> Note:
    """A new version with the changed parts; the earlier ones stay as they were. The author may also change
    who reads it (`visibility`)."""
    note = _readable_note(note_id, caller)
    if note.author_user_id != caller.user_id:
        note_denied("note", note.id, patient_id=note.patient_id, detail="not the author", caller=caller)
        raise Forbidden("Only the author of a note may amend it.")
    current = note.current
    text = {part: data[part] if part in data else getattr(current, part) for part in SOAP}
    if not any(value.strip() for value in text.values()):
        raise Invalid("A note needs at least one of subjective, objective, assessment, plan.",
                      fields={"subjective": "all parts empty"})
    note.versions.append(NoteVersion(number=current.number + 1, written_at=utcnow(), reason=data["reason"], **text))
    detail = f"version {current.number + 1}"
    if data.get("visibility") and data["visibility"] != note.visibility:
        detail += f", visible to {data['visibility']} (was {note.visibility})"
        note.visibility = data["visibility"]
    record("update", "note", note.id, note.patient_id, detail=detail, caller=caller)
    db.session.commit()
    return note
