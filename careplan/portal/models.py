"""Earlier-slot requests and the offers a freed slot makes to them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careplan.db import Base, UTCDateTime, utcnow
from careplan.scheduling.models import Appointment


class EarlierSlotRequest(Base):
    """A patient asks to be told when an earlier time opens for one of their sessions."""

    __tablename__ = "earlier_slot_requests"
    __table_args__ = (CheckConstraint("status IN ('open', 'fulfilled', 'withdrawn')", name="known_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    appointment: Mapped[Appointment] = relationship()


class SlotOffer(Base):
    """A freed slot offered to one request; the first patient to accept gets it, the others are told it is gone.
    An offer past `expires_at` can no longer be accepted (expiry is a query condition, nothing has to run)."""

    __tablename__ = "slot_offers"
    __table_args__ = (
        CheckConstraint("status IN ('offered', 'accepted', 'gone')", name="known_status"),
        # A freed slot goes to one patient, whatever the application checked: the second accept fails here
        # (and at the appointments' overlap guards).
        Index("uq_slot_offers_one_taker", "freed_appointment_id", unique=True,
              sqlite_where=text("status = 'accepted'"), postgresql_where=text("status = 'accepted'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("earlier_slot_requests.id", ondelete="CASCADE"), index=True)
    # The cancelled appointment whose time is offered.
    freed_appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="offered")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[EarlierSlotRequest] = relationship()
