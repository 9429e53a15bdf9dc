from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.sql import false
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from careplan.db import Base, UTCDateTime, utcnow
from careplan.patients.models import Patient

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
    # The plan's version in its history (one CarePlanVersion row each), and its optimistic lock
    # (careplan.versions): _record_version counts it up, so the ORM only checks it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("intakes.id", ondelete="SET NULL"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("protocol_templates.id", ondelete="SET NULL"))
    # The template as it was when the plan was built: a later template version never reaches this plan.
    template_snapshot: Mapped[dict | None] = mapped_column(JSON)
    # Specialist-referral signs from the intake, for the clinician; they do not block the plan.
    referral_signs: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    patient: Mapped[Patient] = relationship()
    phases: Mapped[list[Phase]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Phase.position")
    care_team: Mapped[list[CareTeamMember]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="CareTeamMember.discipline_code")
    versions: Mapped[list[CarePlanVersion]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="CarePlanVersion.version")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    @property
    def week_zero(self) -> date:
        """The Monday of plan week 0: the Monday-to-Sunday week that holds the start date."""
        return self.start_date - timedelta(days=self.start_date.weekday())

    @property
    def disciplines(self) -> set[str]:
        """Every discipline the plan asks for: its session lines' and the assessment's."""
        used = {line.discipline_code for phase in self.phases for line in phase.lines}
        if self.assessment_discipline:
            used.add(self.assessment_discipline)
        return used

    @property
    def total_weeks(self) -> int:
        return sum(phase.weeks for phase in self.phases)

    @property
    def ends_on(self) -> date:
        return self.week_zero + timedelta(weeks=self.total_weeks, days=-1)

    @property
    def assessment(self) -> dict | None:
        if self.assessment_discipline is None:
            return None
        return {"discipline": self.assessment_discipline, "minutes": self.assessment_minutes}

    @property
    def referral_advised(self) -> bool:
        return bool(self.referral_signs)

    @property
    def referral_advice(self) -> list[dict]:
        from careplan.intake.models import REFERRAL_SIGNS

        return [{"sign": sign, "why": REFERRAL_SIGNS[sign]} for sign in self.referral_signs or []]

    def first_week(self, phase: Phase) -> int:
        """The plan week a phase starts in, counted across the phases before it."""
        return sum(p.weeks for p in self.phases if p.position < phase.position)


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

    @property
    def first_week(self) -> int:
        return self.plan.first_week(self)

    @property
    def starts_on(self) -> date:
        monday = self.plan.week_zero + timedelta(weeks=self.first_week)
        return max(monday, self.plan.start_date)

    @property
    def ends_on(self) -> date:
        return self.plan.week_zero + timedelta(weeks=self.first_week + self.weeks, days=-1)


class SessionLine(Base):
    """How often one discipline sees the patient during a phase."""

    __tablename__ = "session_lines"
    __table_args__ = (
        UniqueConstraint("phase_id", "discipline_code"),
        CheckConstraint("per_week >= 1", name="per_week_positive"),
        CheckConstraint("every_weeks >= 1", name="every_weeks_positive"),
        CheckConstraint("minutes > 0", name="minutes_positive"),
        CheckConstraint("min_gap_days >= 0", name="min_gap_days_not_negative"),
        CheckConstraint("mode IN ('in_person', 'virtual', 'either')", name="known_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id", ondelete="CASCADE"), index=True)
    discipline_code: Mapped[str] = mapped_column(ForeignKey("disciplines.code"))
    per_week: Mapped[int] = mapped_column(Integer)
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    minutes: Mapped[int] = mapped_column(Integer)
    min_gap_days: Mapped[int] = mapped_column(Integer, default=1)
    # in_person, virtual (by video only) or either (by video when the patient accepts it).
    mode: Mapped[str] = mapped_column(String(20), default="in_person", server_default="in_person")

    phase: Mapped[Phase] = relationship(back_populates="lines")

    def due_in(self, plan_week: int) -> bool:
        """Whether this line asks for sessions in a plan week of its phase (every_weeks counts from the phase's start)."""
        offset = plan_week - self.phase.first_week
        return 0 <= offset < self.phase.weeks and offset % self.every_weeks == 0


class CareTeamMember(Base):
    """The provider chosen for one discipline of a plan (continuity: the same clinician throughout)."""

    __tablename__ = "care_team_members"
    __table_args__ = (UniqueConstraint("plan_id", "discipline_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"), index=True)
    discipline_code: Mapped[str] = mapped_column(ForeignKey("disciplines.code"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    # True: only this provider delivers the discipline to the patient (a session they cannot take stays
    # unscheduled); False: the optimizer prefers them, after sessions, visits and continuity.
    required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    plan: Mapped[CarePlan] = relationship(back_populates="care_team")


class CarePlanVersion(Base):
    """The plan as it stood after one change: who made it, when and why. Rows are only appended."""

    __tablename__ = "care_plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    # status, start date, assessment, phases with their lines, care team: the whole plan at this version.
    snapshot: Mapped[dict] = mapped_column(JSON)

    plan: Mapped[CarePlan] = relationship(back_populates="versions")


# Loader options for pages and searches that render whole plans: phases with their lines and the care
# team in one query each, not one per plan.
WITH_LINES_AND_TEAM = (selectinload(CarePlan.phases).selectinload(Phase.lines), selectinload(CarePlan.care_team))
