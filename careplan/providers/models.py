from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from careplan.clinic.models import Discipline
from careplan.db import Base, UTCDateTime, WeeklyWindow, utcnow

provider_disciplines = Table(
    "provider_disciplines",
    Base.metadata,
    Column("provider_id", ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True),
    Column("discipline_code", ForeignKey("disciplines.code"), primary_key=True),
)


class Provider(Base):
    """A clinician who gives sessions of one or more disciplines."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counts the changes of the record, its hours and its time off; see careplan.versions.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    disciplines: Mapped[list[Discipline]] = relationship(secondary=provider_disciplines, order_by=Discipline.code)
    availability: Mapped[list[ProviderAvailability]] = relationship(
        back_populates="provider", cascade="all, delete-orphan",
        order_by="(ProviderAvailability.day, ProviderAvailability.start)")
    time_off: Mapped[list[ProviderTimeOff]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="ProviderTimeOff.starts_at")

    @property
    def discipline_codes(self) -> list[str]:
        return [d.code for d in self.disciplines]


class ProviderAvailability(WeeklyWindow, Base):
    """A weekly working window in the clinic's local time."""

    __tablename__ = "provider_availability"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    # Where the provider works in this window, when the clinic has locations (None: the clinic's only site).
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))

    provider: Mapped[Provider] = relationship(back_populates="availability")


class ProviderTimeOff(Base):
    """A dated absence (vacation, course, sick day)."""

    __tablename__ = "provider_time_off"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="starts_before_ends"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")

    provider: Mapped[Provider] = relationship(back_populates="time_off")


# Loader options for a list of providers with their disciplines and calendars, one query per relationship.
WITH_CALENDAR = (selectinload(Provider.disciplines), selectinload(Provider.availability),
                 selectinload(Provider.time_off))
