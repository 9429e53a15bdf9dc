from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careplan.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """One look at or change of a patient's record, or a denied attempt. Rows are only ever appended."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="")
    action: Mapped[str] = mapped_column(String(20))
    resource: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str] = mapped_column(String(40), default="")
    # Which patient's record this touched, so "who looked at Mrs X" is one query.
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    # Where the caller came from: web, api, worker or cli (careplan.caller.ORIGINS).
    origin: Mapped[str] = mapped_column(String(10), default="", server_default="")
    detail: Mapped[str] = mapped_column(String(400), default="")
    # A list or search names every patient whose data it returned, so "who saw patient X" is one query
    # however the data was shown (careplan.audit.service.who_saw).
    patients: Mapped[list[AuditEventPatient]] = relationship(cascade="all", lazy="selectin")


class AuditEventPatient(Base):
    """One patient whose data an audited read (a list, a search, a page) returned."""

    __tablename__ = "audit_event_patients"

    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
