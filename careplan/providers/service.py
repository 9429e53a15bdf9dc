"""Providers, their weekly availability and their time off."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from careplan.clinic.models import Discipline
from careplan.clinic.service import check_disciplines
from careplan.errors import Conflict, Invalid, NotFound
from careplan.i18n import away_span
from careplan.extensions import db
from careplan.providers.models import Provider, ProviderAvailability, ProviderTimeOff
from careplan.rooms.models import Location
from careplan.scheduling.models import Appointment
from careplan.auth.models import User
from careplan.plans.models import CareTeamMember
from careplan.records import get_or_404
from careplan.scheduling.attention import lock_provider, review_provider
from careplan.versions import check_version, count_change


def list_providers(*, discipline: str | None = None, active: bool | None = None):
    query = select(Provider).order_by(Provider.name, Provider.id)
    if discipline:
        query = query.where(Provider.disciplines.any(Discipline.code == discipline))
    if active is not None:
        query = query.where(Provider.active.is_(active))
    return query


def get_provider(provider_id: int) -> Provider:
    return get_or_404(Provider, provider_id, f"No provider {provider_id}.")


def may_see_time_off_reasons(user: User) -> bool:
    """Patients see when a clinician is away but not why: a reason may be medical or personal."""
    return user.role != "patient"


@dataclass(frozen=True)
class AbsenceWithoutReason:
    id: int
    starts_at: datetime
    ends_at: datetime


class ProviderSeenByPatient:
    """A provider as a patient may read them: everything the provider shows, time off without its reasons."""

    def __init__(self, provider: Provider):
        self._provider = provider

    def __getattr__(self, name):
        return getattr(self._provider, name)

    @property
    def time_off(self) -> list[AbsenceWithoutReason]:
        return [AbsenceWithoutReason(off.id, off.starts_at, off.ends_at) for off in self._provider.time_off]


def providers_seen_by(user: User, providers: list[Provider]) -> list:
    if may_see_time_off_reasons(user):
        return providers
    return [ProviderSeenByPatient(provider) for provider in providers]


def _email_free(email: str, provider_id: int | None = None) -> None:
    other = db.session.scalar(select(Provider).where(Provider.email == email))
    if other is not None and other.id != provider_id:
        raise Conflict(f"Another provider uses {email}.", fields={"email": "already used by another provider"})


def _apply(provider: Provider, data: dict) -> None:
    if "discipline_codes" in data:
        codes = data["discipline_codes"]
        check_disciplines(codes)
        # One query for all of them, in the order given (all exist: checked above).
        rows = {d.code: d for d in db.session.scalars(select(Discipline).where(Discipline.code.in_(codes)))}
        provider.disciplines = [rows[code] for code in codes]
    if "availability" in data:
        unknown = {f"availability[{i}].location_id": f"no location {w['location_id']}"
                   for i, w in enumerate(data["availability"])
                   if w.get("location_id") is not None and db.session.get(Location, w["location_id"]) is None}
        if unknown:
            raise Invalid("Unknown location.", fields=unknown)
        provider.availability = [
            ProviderAvailability(day=w["day"], start=w["start"], end=w["end"], location_id=w.get("location_id"))
            for w in data["availability"]]
    for key in ("name", "email", "phone", "active"):
        if key in data:
            setattr(provider, key, data[key])


def create_provider(data: dict) -> Provider:
    data["email"] = data["email"].lower()
    _email_free(data["email"])
    provider = Provider(name=data["name"], email=data["email"])
    _apply(provider, data)
    db.session.add(provider)
    db.session.commit()
    return provider


@dataclass
class CalendarChange:
    """A change of a provider's calendar and the booked appointments it leaves outside the hours or inside a
    time off (flagged for the front desk, careplan.scheduling.attention), earliest first."""

    provider: Provider
    affected: list[Appointment] = field(default_factory=list)
    time_off: ProviderTimeOff | None = None


def update_provider(provider_id: int, data: dict, *, expected_version=None,
                    now: datetime | None = None) -> CalendarChange:
    """`expected_version`: the version the caller read (careplan.versions); None applies the change anyway.
    The answer carries the appointments the new hours (or a deactivation) leave outside, now flagged."""
    provider = lock_provider(provider_id)
    check_version(provider, expected_version)
    if "email" in data:
        data["email"] = data["email"].lower()
        _email_free(data["email"], provider.id)
    _apply(provider, data)
    count_change(provider)
    affected = review_provider(provider, now=now)
    db.session.commit()
    return CalendarChange(provider, affected)


def delete_provider(provider_id: int, *, expected_version=None) -> None:
    """Only a provider with no history goes; one with appointments, a care team or a login is deactivated."""
    provider = get_provider(provider_id)
    check_version(provider, expected_version)
    for model, column in ((Appointment, Appointment.provider_id), (CareTeamMember, CareTeamMember.provider_id),
                          (User, User.provider_id)):
        if db.session.scalar(select(model.id).where(column == provider.id).limit(1)) is not None:
            raise Conflict("This provider has appointments, care teams or a user account on record; "
                           "set active to false instead of deleting.")
    db.session.delete(provider)
    db.session.commit()


def add_time_off(provider_id: int, data: dict, *, now: datetime | None = None) -> CalendarChange:
    """Record an absence; the answer carries the appointments now inside it (or otherwise outside), flagged."""
    provider = lock_provider(provider_id)
    for existing in provider.time_off:
        if existing.starts_at < data["ends_at"] and data["starts_at"] < existing.ends_at:
            # Said as the pages say an absence: its id told the admin nothing.
            said = away_span(existing.starts_at, existing.ends_at, with_year=True)
            raise Invalid("This absence overlaps one already recorded; change that one instead.",
                          fields={"start": f"overlaps the time off {said}"
                                           + (f" ({existing.reason})" if existing.reason else "")})
    row = ProviderTimeOff(provider=provider, starts_at=data["starts_at"], ends_at=data["ends_at"],
                          reason=data.get("reason", ""))
    db.session.add(row)
    # The provider's calendar (and its representation) changed.
    count_change(provider)
    affected = review_provider(provider, now=now)
    db.session.commit()
    return CalendarChange(provider, affected, row)


def delete_time_off(provider_id: int, time_off_id: int, *, now: datetime | None = None) -> CalendarChange:
    """Remove an absence: appointments it had flagged are cleared (their reminders go out again)."""
    provider = lock_provider(provider_id)
    row = db.session.get(ProviderTimeOff, time_off_id)
    if row is None or row.provider_id != provider_id:
        raise NotFound(f"No time off {time_off_id} for provider {provider_id}.")
    count_change(provider)
    db.session.delete(row)
    affected = review_provider(provider, now=now)
    db.session.commit()
    return CalendarChange(provider, affected)


def providers_by_id(ids) -> dict[int, Provider]:
    ids = set(ids)
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Provider).where(Provider.id.in_(ids)))}


def active_providers() -> list[Provider]:
    return list(db.session.scalars(select(Provider).where(Provider.active.is_(True)).order_by(Provider.name)))
