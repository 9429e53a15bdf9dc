from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from careplan.db import Base

# Who reads a clinical note: the patient's whole care team, the clinicians of the note's discipline on it, or
# only its author. Psychotherapy notes carry extra protection in health-privacy law, so that discipline's
# notes default to its own clinicians (Discipline.note_visibility); the author chooses for each note.
NOTE_VISIBILITIES = ("team", "discipline", "author")


class ClinicSettings(Base):
    """The clinic's own facts; a single row (id 1)."""

    __tablename__ = "clinic_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    # Empty means CLINIC_TIMEZONE from the environment.
    timezone: Mapped[str | None] = mapped_column(String(64))
    slot_minutes: Mapped[int] = mapped_column(Integer, default=15)
    transition_minutes: Mapped[int] = mapped_column(Integer, default=10)
    max_wait_minutes: Mapped[int] = mapped_column(Integer, default=60)
    # Cancelling later than this before the start is recorded as a late cancellation.
    late_cancel_hours: Mapped[int] = mapped_column(Integer, default=24)
    # How long a proposal's slots stay held while the front desk reviews it.
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    # The most sessions a patient is given in one day (a patient's record may lower it): a visit someone
    # in pain can bear.
    max_sessions_per_day: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    # The language of patients whose record names none (careplan.i18n).
    default_language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")


class Discipline(Base):
    """A kind of care the clinic offers (physiotherapy, massage, ...): data, not code."""

    __tablename__ = "disciplines"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    # What the clinic calls a provider of it ("physiotherapist"), used in e-mails and explanations.
    practitioner_title: Mapped[str] = mapped_column(String(80))
    core: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Who reads this discipline's notes unless their author chooses otherwise (one of NOTE_VISIBILITIES).
    note_visibility: Mapped[str] = mapped_column(String(20), default="team", server_default="team")
    # The kind of room or equipment an in-person session of it holds ("treatment-table"); None: no room.
    room_kind: Mapped[str | None] = mapped_column(String(40))
