"""Locations of the clinic network and the rooms (or equipment) each one has.

A room has a *kind* ("treatment-table", "gym"); a discipline that needs one names the kind
(`Discipline.room_kind`). `capacity` is how many sessions can use it at once: a gym with three
stations has capacity 3, and each appointment holding it takes one of those places
(`Appointment.room_unit`, 1..capacity) for its whole length, which is what the database guard
checks (see careplan.scheduling.rooms).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careplan.db import Base, UTCDateTime, utcnow

# The locations a patient accepts to come to (none listed: any).
patient_locations = Table(
    "patient_locations",
    Base.metadata,
    Column("patient_id", ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True),
    Column("location_id", ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True),
)


class Location(Base):
    """One site of the clinic (the time zone stays the clinic's)."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str] = mapped_column(String(400), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rooms: Mapped[list[Room]] = relationship(back_populates="location", order_by="Room.name")


class Room(Base):
    """A room or a piece of equipment at one location, of one kind, for `capacity` sessions at once."""

    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("location_id", "name"),
        CheckConstraint("capacity BETWEEN 1 AND 100", name="capacity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    location: Mapped[Location] = relationship(back_populates="rooms")
    # The disciplines whose sessions hold a room of this kind (the service contract's "disciplines" of a room).
    served: Mapped[list["Discipline"]] = relationship(  # noqa: F821  (careplan.clinic.models)
        "Discipline", primaryjoin="foreign(Discipline.room_kind) == Room.kind", viewonly=True,
        order_by="Discipline.code")
