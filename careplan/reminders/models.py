from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careplan.db import Base, UTCDateTime, utcnow
from careplan.patients.models import Patient
from careplan.scheduling.models import Appointment

EMAIL_KINDS = ("reminder", "booking-confirmation", "cancellation", "reschedule", "slot-offer", "slot-gone",
               "video-link")
EMAIL_STATUSES = ("pending", "sent", "failed", "cancelled")
LINK_ACTIONS = ("confirm", "cancel")


class OutboundEmail(Base):
    """One e-mail to a patient, queued inside the transaction that caused it and sent later by a dispatcher.

    Reminders are rows of kind ``reminder``, one per appointment and offset; the
    notices (confirmation, cancellation, reschedule) share the same queue so that
    one claim-and-lease mechanism guarantees every e-mail goes out at most once
    per claim and is never sent from inside a booking transaction.
    """

    __tablename__ = "outbound_emails"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('reminder', 'booking-confirmation', 'cancellation', 'reschedule', 'slot-offer', 'slot-gone', "
            "'video-link')",
            name="known_kind"),
        CheckConstraint("status IN ('pending', 'sent', 'failed', 'cancelled')", name="known_status"),
        # The dispatcher's claim scans pending rows by due time.
        Index("ix_outbound_emails_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    # Reminders only: how many hours (by the clinic's wall clock) before the appointment.
    offset_hours: Mapped[int | None] = mapped_column(Integer)
    # What the message needs beyond the appointment: the plan's appointment ids, a previous start.
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set after a failed attempt: not claimed again before this instant.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    message_id: Mapped[str | None] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(254), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()
    appointment: Mapped[Appointment | None] = relationship()


class AppointmentLinkUse(Base):
    """A confirm or cancel link from an e-mail that has been used: each works once per version of the appointment."""

    __tablename__ = "appointment_link_uses"
    __table_args__ = (
        CheckConstraint("action IN ('confirm', 'cancel')", name="known_action"),
        UniqueConstraint("appointment_id", "action", "sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
