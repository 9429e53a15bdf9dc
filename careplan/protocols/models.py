from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from careplan.db import Base, UTCDateTime, utcnow

REGIONS = ("cervical", "thoracic", "lumbar")
SEVERITIES = ("mild", "moderate", "severe")
# What an intake can make true, and so what a conditional line may depend on.
CONDITIONS = ("pain_stress_or_insomnia", "prefers_acupuncture")


class ProtocolTemplate(Base):
    """One version of the clinic's protocol for a condition, region and severity.

    Rows are never changed: an edit is a new row with the next version, so a
    plan built from an older version still names exactly what it came from.
    """

    __tablename__ = "protocol_templates"
    __table_args__ = (
        UniqueConstraint("condition", "region", "severity", "version"),
        CheckConstraint("region IN ('cervical', 'thoracic', 'lumbar')", name="known_region"),
        CheckConstraint("severity IN ('mild', 'moderate', 'severe')", name="known_severity"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    condition: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    # The assessment, phases and conditional lines, as the schema in protocols/schemas.py describes them.
    body: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def total_weeks(self) -> int:
        return sum(phase["weeks"] for phase in self.body["phases"])

    @property
    def assessment(self) -> dict | None:
        return self.body.get("assessment")

    @property
    def phases(self) -> list[dict]:
        return self.body["phases"]

    @property
    def conditional_lines(self) -> list[dict]:
        return self.body.get("conditional_lines", [])
