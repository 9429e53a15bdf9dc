from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careplan.db import Base, UTCDateTime, WeeklyWindow, utcnow
from careplan.rooms.models import Location, patient_locations


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    reminder_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # At most this many sessions in one day for this patient, below the clinic's own limit; None: the clinic's.
    max_sessions_per_day: Mapped[int | None] = mapped_column(Integer)
    # "en" or "fr": what the portal, the link pages and the e-mails speak; empty is the clinic's default.
    language: Mapped[str | None] = mapped_column(String(5))
    # Sessions a plan allows by video may be held so (their consent); the locations they come to (none: any).
    accepts_virtual: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counts the changes of the record; see careplan.versions.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    availability: Mapped[list[PatientAvailability]] = relationship(
        back_populates="patient", cascade="all, delete-orphan",
        order_by="(PatientAvailability.day, PatientAvailability.start)")
    locations: Mapped[list[Location]] = relationship(secondary=patient_locations, order_by=Location.id)

    @property
    def location_ids(self) -> list[int]:
        return [location.id for location in self.locations]


class PatientAvailability(WeeklyWindow, Base):
    """When the patient can come, weekly, in the clinic's local time."""

    __tablename__ = "patient_availability"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)

    patient: Mapped[Patient] = relationship(back_populates="availability")
