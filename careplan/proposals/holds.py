"""Which held slots are in force: those of live proposals not yet past their expiry.

Expiry is a query condition, so a hold frees its slot by itself at `expires_at`; the periodic
`expire_proposals` job only records the status for the lists. Booking paths treat the holds of
OTHER proposals as busy time; a proposal's own holds are what its booking turns into appointments.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from careplan.extensions import db
from careplan.proposals.models import HeldSlot, Proposal
from careplan.scheduling.models import overlapping


def holds_in_force(now: datetime, *, exclude_proposal_ids=(), exclude_plan_id: int | None = None):
    query = select(HeldSlot).join(Proposal).where(Proposal.status == "live", Proposal.expires_at > now)
    if exclude_proposal_ids:
        query = query.where(Proposal.id.not_in(list(exclude_proposal_ids)))
    if exclude_plan_id is not None:
        query = query.where(Proposal.plan_id != exclude_plan_id)
    return query


def holds_over(provider_id: int | None, patient_id: int | None, start: datetime, end: datetime, *,
               now: datetime, exclude_proposal_ids=()) -> list[HeldSlot]:
    """Holds in force of this provider or this patient overlapping [start, end)."""
    who = []
    if provider_id is not None:
        who.append(HeldSlot.provider_id == provider_id)
    if patient_id is not None:
        who.append(HeldSlot.patient_id == patient_id)
    query = holds_in_force(now, exclude_proposal_ids=exclude_proposal_ids).where(
        overlapping(HeldSlot, start, end), or_(*who)).order_by(HeldSlot.id)
    return list(db.session.scalars(query))
