"""Appointments that need the front desk: a change of hours or time off never leaves them silently outside.

The one rule, called from every path that changes a clinician's weekly hours, time off or activity
(careplan.providers.service): after the change, each of the provider's future booked or confirmed
appointments that no longer fits (outside the hours, inside a time off, the provider inactive) is
flagged (`flag_reason`, `flagged_at`) in the same transaction, and the change answers with them. While
flagged, its reminders are held: the dispatcher (careplan.reminders.dispatch) does not send them,
since they would tell the patient to come at a time the clinician is not there. The flag clears when
the appointment moves (a move is checked against the hours), is cancelled, completed or marked a
no-show, or when the hours cover it again (its reminders are then re-timed: offsets already past are
skipped, as for a booking).

The provider's row is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises every write
transaction with BEGIN IMMEDIATE) by both sides, a change of hours and a booking, so a booking checked
against the old hours cannot commit after the new hours were reviewed without being seen.

    lock_provider(provider_id)                  the provider, its row locked until the commit
    lock_providers(ids)                         several, in id order (no deadlock between two bookings)
    why_outside(appointment, provider)          the reason it no longer fits, or None
    review_provider(provider, now=...)          flag and clear after a change; the flagged appointments
    absence_over(appointment)                   the time off over it, if any (for the absence's re-plan)
    flagged_appointments(provider_id=, ...)     the query of flagged appointments (desk, calendar, API)
    clear_flag(appointment)                     after a move or the end of the appointment
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import Select, select

from careplan.clinic.service import within_windows
from careplan.db import utcnow
from careplan.errors import NotFound
from careplan.extensions import db
from careplan.i18n import away_span
from careplan.providers.models import Provider, ProviderTimeOff
from careplan.reminders.service import retime_reminders
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment, overlapping


def lock_provider(provider_id: int) -> Provider:
    """The provider as the database has it now, its row locked until this transaction ends (404 if none)."""
    provider = db.session.scalar(select(Provider).where(Provider.id == provider_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if provider is None:
        raise NotFound(f"No provider {provider_id}.")
    return provider


def lock_providers(provider_ids) -> None:
    """Lock these providers' rows, always in the same (id) order so that two bookings cannot deadlock.
    Unknown ids are left for the booking's own checks to name."""
    ids = sorted({pid for pid in provider_ids if pid is not None})
    if ids:
        list(db.session.scalars(select(Provider.id).where(Provider.id.in_(ids)).order_by(Provider.id)
                                .with_for_update()))


def _span(starts_at: datetime, ends_at: datetime) -> str:
    """The absence as the pages say it ("Tue 8 Dec 2026, all day", where it said "2026-12-08 00:00 to
    2026-12-09 00:00"), in English: the reason is stored, and the API answers it, whoever's request wrote it;
    with its year, since it is read after the year has turned too."""
    with force_locale("en"):
        return away_span(starts_at, ends_at, with_year=True)


def absence_over(appointment: Appointment) -> ProviderTimeOff | None:
    """The provider's time off over this appointment, if any (its re-plan is the absence's re-plan)."""
    return db.session.scalar(select(ProviderTimeOff).where(
        ProviderTimeOff.provider_id == appointment.provider_id, ProviderTimeOff.starts_at < appointment.ends_at,
        appointment.starts_at < ProviderTimeOff.ends_at).order_by(ProviderTimeOff.starts_at).limit(1))


def why_outside(appointment: Appointment, provider: Provider) -> str | None:
    """Why this appointment can no longer take place with this provider as booked, or None when it can."""
    if not provider.active:
        return f"{provider.name} no longer sees patients"
    for absence in provider.time_off:
        if absence.starts_at < appointment.ends_at and appointment.starts_at < absence.ends_at:
            return f"inside {provider.name}'s time off ({_span(absence.starts_at, absence.ends_at)})"
    if not within_windows(provider.availability, appointment.starts_at, appointment.ends_at):
        return f"outside {provider.name}'s working hours"
    return None


def review_provider(provider: Provider, *, now: datetime | None = None) -> list[Appointment]:
    """After a change of the provider's hours, time off or activity (no commit): flag the future booked
    appointments that no longer fit, clear the flag of those that fit again; the flagged ones, by start."""
    now = now or utcnow()
    db.session.flush()
    db.session.refresh(provider, ["availability", "time_off"])
    flagged = []
    for appointment in db.session.scalars(select(Appointment).where(
            Appointment.provider_id == provider.id, Appointment.status.in_(ACTIVE_STATUSES),
            Appointment.starts_at > now).order_by(Appointment.starts_at, Appointment.id)):
        reason = why_outside(appointment, provider)
        if reason is not None:
            if appointment.flag_reason is None:
                appointment.flagged_at = now
            appointment.flag_reason = reason
            flagged.append(appointment)
        elif appointment.flag_reason is not None:
            clear_flag(appointment)
            # The reminders held meanwhile go out again, those already past skipped (never sent late).
            retime_reminders(appointment, now=now)
    db.session.flush()
    return flagged


def clear_flag(appointment: Appointment) -> None:
    appointment.flag_reason = None
    appointment.flagged_at = None


def flagged_appointments(*, provider_id: int | None = None, patient_id: int | None = None,
                         starts_from: datetime | None = None, until: datetime | None = None) -> Select:
    """The query of booked or confirmed appointments flagged for the front desk, earliest first.

    Each row's `flag_reason` says why in the clinic's words and `flagged_at` since when. Public for
    every view of "what needs attention" (the desk's page, the API's `?flagged=true`, calendars).
    """
    query = select(Appointment).where(Appointment.flag_reason.is_not(None),
                                      Appointment.status.in_(ACTIVE_STATUSES))
    if provider_id is not None:
        query = query.where(Appointment.provider_id == provider_id)
    if patient_id is not None:
        query = query.where(Appointment.patient_id == patient_id)
    if starts_from is not None or until is not None:
        query = query.where(overlapping(Appointment, starts_from, until))
    return query.order_by(Appointment.starts_at, Appointment.id)


def flagged_list(limit: int = 500) -> list[Appointment]:
    """Appointments flagged for the front desk, earliest first, with their patient and provider loaded."""
    from sqlalchemy.orm import selectinload

    query = flagged_appointments().options(
        selectinload(Appointment.patient), selectinload(Appointment.provider)).limit(limit)
    return list(db.session.scalars(query))


def flagged_count() -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(flagged_appointments().subquery()))
