from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careplan.db import Base, UTCDateTime, utcnow

PLAN_STATUSES = ("draft", "booked", "active", "completed", "cancelled")


class CarePlan(Base):
    """A patient's coordinated plan: an optional opening assessment, then phases in order."""

    __tablename__ = "care_plans"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'booked', 'active', 'completed', 'cancelled')", name="known_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    condition: Mapped[str] = mapped_column(String(40), default="radiculopathy")
    region: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date] = mapped_column(Date)
    assessment_discipline: Mapped[str | None] = mapped_column(ForeignKey("disciplines.code"))
    assessment_minutes: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    phases: Mapped[list[Phase]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Phase.position")
    care_team: Mapped[list[CareTeamMember]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="CareTeamMember.discipline_code")


class Phase(Base):
    __tablename__ = "phases"
    __table_args__ = (
        UniqueConstraint("plan_id", "position"),
        CheckConstraint("weeks >= 1", name="weeks_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    weeks: Mapped[int] = mapped_column(Integer)
    # What the phase is for, in words a patient understands.
    purpose: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[CarePlan] = relationship(back_populates="phases")
    lines: Mapped[list[SessionLine]] = relationship(
        back_populates="phase", cascade="all, delete-orphan", order_by="SessionLine.id")


class SessionLine(Base):
    """How often one discipline sees the patient during a phase."""

    __tablename__ = "session_lines"
    __table_args__ = (
        UniqueConstraint("phase_id", "discipline_code"),
        CheckConstraint("per_week >= 1", name="per_week_positive"),
        CheckConstraint("every_weeks >= 1", name="every_weeks_positive"),
        CheckConstraint("minutes > 0", name="minutes_positive"),
        CheckConstraint("min_gap_days >= 0", name="min_gap_days_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id", ondelete="CASCADE"), index=True)
    discipline_code: Mapped[str] = mapped_column(ForeignKey("disciplines.code"))
    per_week: Mapped[int] = mapped_column(Integer)
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    minutes: Mapped[int] = mapped_column(Integer)
    min_gap_days: Mapped[int] = mapped_column(Integer, default=1)

    phase: Mapped[Phase] = relationship(back_populates="lines")


class CareTeamMember(Base):
    """The provider chosen for one discipline of a plan (continuity: the same clinician throughout)."""

    __tablename__ = "care_team_members"
    __table_args__ = (UniqueConstraint("plan_id", "discipline_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"), index=True)
    discipline_code: Mapped[str] = mapped_column(ForeignKey("disciplines.code"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)

    plan: Mapped[CarePlan] = relationship(back_populates="care_team")
