from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from careplan.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from careplan.patients.models import Patient

# Signs that mean urgent medical care, not a booked care plan (domain.md), each with why, in plain words.
RED_FLAGS = {
    "loss_of_bladder_or_bowel_control": "loss of bladder or bowel control (possible cauda equina syndrome)",
    "sudden_severe_limb_weakness": "sudden severe weakness in an arm or leg",
    "rapidly_progressing_numbness_or_paralysis": "numbness or paralysis that is getting worse quickly",
    "fever": "fever",
    "unexplained_weight_loss": "unexplained weight loss",
    "night_sweats": "night sweats",
    "constant_pain_at_rest": "constant pain even at rest",
    "recent_infection": "a recent infection",
    "trauma_with_head_injury": "trauma with a head injury",
}

# Signs that a specialist's opinion is advised: flagged on the plan for the clinician, not blocking.
REFERRAL_SIGNS = {
    "pain_beyond_two_weeks_despite_rest": "pain lasting beyond 1-2 weeks despite rest",
    "new_weakness_or_numbness": "weakness or numbness has developed",
    "pain_below_knee": "pain radiates below the knee",
}

SCREEN_RESULTS = ("clear", "red_flag", "overridden")


class Intake(Base):
    """What the front desk learned from the patient, and the red-flag screen's result."""

    __tablename__ = "intakes"
    __table_args__ = (
        CheckConstraint("screen_result IN ('clear', 'red_flag', 'overridden')", name="known_screen_result"),
        CheckConstraint("severity IN ('mild', 'moderate', 'severe')", name="known_severity"),
        CheckConstraint("region IN ('cervical', 'thoracic', 'lumbar')", name="known_region"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    condition: Mapped[str] = mapped_column(String(40), default="radiculopathy")
    region: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(10))
    symptoms: Mapped[list] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(20))
    # The answers the severity was derived from, when the front desk gave those instead of a severity.
    severity_answers: Mapped[dict | None] = mapped_column(JSON)
    pain_stress_or_insomnia: Mapped[bool] = mapped_column(Boolean, default=False)
    prefers_acupuncture: Mapped[bool] = mapped_column(Boolean, default=False)
    preferences: Mapped[str] = mapped_column(Text, default="")

    loss_of_bladder_or_bowel_control: Mapped[bool] = mapped_column(Boolean, default=False)
    sudden_severe_limb_weakness: Mapped[bool] = mapped_column(Boolean, default=False)
    rapidly_progressing_numbness_or_paralysis: Mapped[bool] = mapped_column(Boolean, default=False)
    fever: Mapped[bool] = mapped_column(Boolean, default=False)
    unexplained_weight_loss: Mapped[bool] = mapped_column(Boolean, default=False)
    night_sweats: Mapped[bool] = mapped_column(Boolean, default=False)
    constant_pain_at_rest: Mapped[bool] = mapped_column(Boolean, default=False)
    recent_infection: Mapped[bool] = mapped_column(Boolean, default=False)
    trauma_with_head_injury: Mapped[bool] = mapped_column(Boolean, default=False)

    pain_beyond_two_weeks_despite_rest: Mapped[bool] = mapped_column(Boolean, default=False)
    new_weakness_or_numbness: Mapped[bool] = mapped_column(Boolean, default=False)
    pain_below_knee: Mapped[bool] = mapped_column(Boolean, default=False)

    screen_result: Mapped[str] = mapped_column(String(20))
    override_reason: Mapped[str] = mapped_column(Text, default="")
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    patient: Mapped[Patient] = relationship()

    @property
    def positive_red_flags(self) -> list[str]:
        return [name for name in RED_FLAGS if getattr(self, name)]

    @property
    def referral_signs(self) -> list[str]:
        return [name for name in REFERRAL_SIGNS if getattr(self, name)]

    @property
    def conditions(self) -> set[str]:
        """What the intake makes true, for a protocol's conditional lines."""
        return {name for name in ("pain_stress_or_insomnia", "prefers_acupuncture") if getattr(self, name)}

    @property
    def red_flags(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in RED_FLAGS}

    @property
    def referral(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in REFERRAL_SIGNS}

    @property
    def override(self) -> Intake | None:
        return self if self.overridden_at is not None else None
