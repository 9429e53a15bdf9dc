"""Solve jobs: an optimizer run (a proposal, a re-plan, an absence's re-plans, a batch intake) queued in the
database, claimed by any worker under a lease, with its progress, its result or why it failed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from careplan.db import Base, UTCDateTime, utcnow

JOB_KINDS = ("proposal", "replan", "absence_replan", "batch_intake")
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")


class SolveJob(Base):
    __tablename__ = "solve_jobs"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="known_state"),
        CheckConstraint("kind IN ('proposal', 'replan', 'absence_replan', 'batch_intake')", name="known_kind"),
        Index("ix_solve_jobs_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="queued")
    # What to solve: {"plan_id"} | {"provider_id", "time_off_id"} | {"plan_ids"}, and "parameters" as the
    # request sent them (loaded again by the request's schema when the job runs).
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # Seconds the solve may take from the moment it starts running.
    time_limit: Mapped[float] = mapped_column(Float)
    # The optimizer's latest report: elapsed, stage, scheduled, demand, visits, breaks, bound.
    progress: Mapped[dict] = mapped_column(JSON, default=dict)
    # When done: {"proposal_ids": [...]} (an absence also "without_plan", "not_replanned").
    result: Mapped[dict | None] = mapped_column(JSON)
    # When failed: {"code", "message", "fields"}, the error format's body.
    error: Mapped[dict | None] = mapped_column(JSON)
    # The plan's patient (one plan), for the audit trail and the access rules.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker running it and until when its claim holds (renewed while it solves); a claim past its
    # expiry is taken up by another worker.
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED
