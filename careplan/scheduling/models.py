from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, and_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careplan.db import Base, UTCDateTime, utcnow
from careplan.patients.models import Patient
from careplan.providers.models import Provider
from careplan.rooms.models import Location, Room

APPOINTMENT_STATUSES = ("booked", "confirmed", "cancelled", "completed", "no_show")
# Appointments still to happen: they hold the slot, get reminders and can be moved or cancelled.
ACTIVE_STATUSES = ("booked", "confirmed")

# The longest a session lasts (the upper bound of careplan.schemas.SESSION_MINUTES, which every booking,
# move and protocol is validated against). A session that ends after an instant began less than this before
# it: the lower bound on `starts_at` that lets an index on it read one range, not the whole history.
LONGEST_SESSION = timedelta(minutes=480)


def overlapping(model, start: datetime | None, end: datetime | None):
    """Rows of `model` (Appointment, HeldSlot: `starts_at`, `ends_at`, at most LONGEST_SESSION long) that
    overlap [start, end); either bound may be None (open). With `start`, the condition carries
    `starts_at >= start - LONGEST_SESSION` besides `ends_at > start`, so the database reads the index on
    starts_at (alone, or after provider_id or patient_id) from there instead of from the first row."""
    conditions = []
    if start is not None:
        conditions += [model.ends_at > start, model.starts_at >= start - LONGEST_SESSION]
    if end is not None:
        conditions.append(model.starts_at < end)
    return and_(*conditions)


class Appointment(Base):
    """One session of one discipline, with one provider, for one patient."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        CheckConstraint(
            "status IN ('booked', 'confirmed', 'cancelled', 'completed', 'no_show')", name="known_status"),
        CheckConstraint("kind IN ('assessment', 'treatment')", name="known_kind"),
        Index("ix_appointments_provider_time", "provider_id", "starts_at"),
        Index("ix_appointments_patient_time", "patient_id", "starts_at"),
        # The clinic's day and week (desk calendar, day lists, FHIR searches) across every clinician.
        Index("ix_appointments_starts_at", "starts_at"),
        # The front desk's list of flagged appointments from now on (careplan.scheduling.attention): the few
        # flagged ones by start, not every appointment to come.
        Index("ix_appointments_flagged_start", "starts_at", postgresql_where=text("flag_reason IS NOT NULL"),
              sqlite_where=text("flag_reason IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    discipline_code: Mapped[str] = mapped_column(ForeignKey("disciplines.code"))
    kind: Mapped[str] = mapped_column(String(20), default="treatment")
    # Which demand of which plan this answers; empty for a one-off booking.
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("care_plans.id", ondelete="SET NULL"), index=True)
    phase_name: Mapped[str | None] = mapped_column(String(40))
    plan_week: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="booked")
    cancel_reason: Mapped[str] = mapped_column(String(400), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_cancellation: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where and how (issue 20): the location and the room held (one of its `capacity` places, room_unit),
    # or a video session with its link. None/empty for a clinic without locations or rooms.
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True)
    room_unit: Mapped[int | None] = mapped_column(Integer)
    virtual: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    video_link: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # When the front desk checked the patient in; the status stays until the session is completed or missed.
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on every change the patient should see; the iCalendar SEQUENCE.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Why the front desk must act: a change of the provider's hours or time off left it outside them
    # (careplan.scheduling.attention). Its reminders are held while it is set; a move, its end or hours
    # that cover it again clear it.
    flag_reason: Mapped[str | None] = mapped_column(String(300))
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship()
    provider: Mapped[Provider] = relationship()
    location: Mapped[Location | None] = relationship()
    room: Mapped[Room | None] = relationship()

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def needs_new_time(self) -> bool:
        """Still to happen at a time its clinician can no longer keep (flagged by careplan.scheduling.attention)."""
        return self.flag_reason is not None and self.status in ACTIVE_STATUSES

    @property
    def awaits_confirmation(self) -> bool:
        """The patient may confirm it: booked, and at a time that holds."""
        return self.status == "booked" and self.flag_reason is None
