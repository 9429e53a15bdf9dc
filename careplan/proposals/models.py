"""Proposals: an optimizer's schedule for a plan, held for the front desk to review, then booked or let go."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careplan.db import Base, UTCDateTime, utcnow
from careplan.providers.models import Provider
from careplan.rooms.models import Location

PROPOSAL_STATUSES = ("live", "booked", "expired", "superseded")
# What `Proposal.state` shows: the stored statuses, and `released` for one the front desk let go.
PROPOSAL_STATES = (*PROPOSAL_STATUSES, "released")
PROPOSAL_KINDS = ("plan", "replan")
HOLD_ACTIONS = ("create", "move")


class Proposal(Base):
    """One run of the optimizer for one plan; while live and not past `expires_at`, its slots are held."""

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint("status IN ('live', 'booked', 'expired', 'superseded')", name="known_status"),
        CheckConstraint("kind IN ('plan', 'replan')", name="known_kind"),
        Index("ix_proposals_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"), index=True)
    # The plan's version when proposed: booking refuses a proposal for a plan changed since.
    plan_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), default="plan")
    status: Mapped[str] = mapped_column(String(20), default="live")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the front desk let it go. Its status is then `expired` (the holds stop at once), but unlike a
    # proposal that merely timed out it never books: letting go is a decision.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the front desk asked for (start date, preferred providers, availability, time limit).
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    # The optimizer's input and output, kept so any schedule can be replayed and explained.
    problem: Mapped[dict] = mapped_column(JSON)
    solution: Mapped[dict] = mapped_column(JSON)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    solve_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # Sessions the optimizer could not place, each with its reason.
    unscheduled: Mapped[list] = mapped_column(JSON, default=list)
    # A re-plan's appointments to cancel: [{"appointment_id", "sequence", "reason"}].
    cancellations: Mapped[list] = mapped_column(JSON, default=list)
    # A re-plan's appointments that stay where they are but now answer another plan week or phase (a phase
    # changed length): [{"appointment_id", "sequence", "phase", "week"}]. Null on proposals made before.
    relabels: Mapped[list | None] = mapped_column(JSON, default=list, nullable=True)
    # The appointments the booking wrote (created and moved).
    booked_appointment_ids: Mapped[list] = mapped_column(JSON, default=list)

    holds: Mapped[list[HeldSlot]] = relationship(back_populates="proposal", cascade="all, delete-orphan",
                                                 order_by="(HeldSlot.starts_at, HeldSlot.id)")

    def state(self, now: datetime) -> str:
        """The status as the front desk sees it: a live proposal past its expiry holds nothing any more."""
        if self.released_at is not None:
            return "released"
        if self.status == "live" and self.expires_at <= now:
            return "expired"
        return self.status


class HeldSlot(Base):
    """One proposed appointment, holding its provider's and patient's time while the proposal is live."""

    __tablename__ = "held_slots"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        CheckConstraint("action IN ('create', 'move')", name="known_action"),
        Index("ix_held_slots_provider_time", "provider_id", "starts_at"),
        Index("ix_held_slots_patient_time", "patient_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    discipline_code: Mapped[str] = mapped_column(ForeignKey("disciplines.code"))
    kind: Mapped[str] = mapped_column(String(20), default="treatment")
    phase_name: Mapped[str | None] = mapped_column(String(40))
    plan_week: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(10), default="create")
    # For a move: the appointment it moves, and its sequence when proposed (a change since refuses the booking).
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    appointment_sequence: Mapped[int | None] = mapped_column(Integer)
    previous_provider_id: Mapped[int | None] = mapped_column(Integer)
    previous_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where and how the optimizer placed it (issue 20): by video, or at a location in a room.
    virtual: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"))

    proposal: Mapped[Proposal] = relationship(back_populates="holds")
    provider: Mapped[Provider] = relationship()
    location: Mapped[Location | None] = relationship()

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)
