from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careplan.db import Base, UTCDateTime, utcnow
from careplan.providers.models import Provider


class Note(Base):
    """One clinician's note about one patient; what it says lives in its versions, the newest one current."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No cascade: a patient with notes is never deleted (see patients.service.delete_patient).
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    author_provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    discipline_code: Mapped[str] = mapped_column(ForeignKey("disciplines.code"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    # When the care happened, which may be earlier than when the note was typed.
    noted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who reads it (careplan.clinic.models.NOTE_VISIBILITIES), chosen by its author; not versioned, the
    # text is.
    visibility: Mapped[str] = mapped_column(String(20), default="team", server_default="team")

    versions: Mapped[list[NoteVersion]] = relationship(
        back_populates="note", cascade="all", order_by="NoteVersion.number")
    author_provider: Mapped[Provider] = relationship()

    @property
    def current(self) -> NoteVersion:
        return self.versions[-1]

    @property
    def amended_at(self) -> datetime | None:
        return self.current.written_at if len(self.versions) > 1 else None


class NoteVersion(Base):
    """The note's text as written or as amended; earlier versions stay readable."""

    __tablename__ = "note_versions"
    __table_args__ = (UniqueConstraint("note_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    subjective: Mapped[str] = mapped_column(Text, default="")
    objective: Mapped[str] = mapped_column(Text, default="")
    assessment: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    # Why an amendment was made; empty on the first version.
    reason: Mapped[str] = mapped_column(String(400), default="")
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    note: Mapped[Note] = relationship(back_populates="versions")
