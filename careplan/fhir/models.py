from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from careplan.db import Base, UTCDateTime, utcnow


class CalendarFeed(Base):
    """A private iCalendar URL of one provider or one patient.

    Only the token's SHA-256 is kept: the URL is shown once, when it is made,
    and a leaked database yields no working feed. Rotating replaces the row;
    revoking deletes it.
    """

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        CheckConstraint("(provider_id IS NULL) <> (patient_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"), unique=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
