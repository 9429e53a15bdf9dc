"""The clinic's settings and disciplines, and its local time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from careplan.clinic.models import ClinicSettings, Discipline
from careplan.errors import Conflict, Invalid
from careplan.extensions import db
from careplan.records import get_or_404

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def settings() -> ClinicSettings:
    return get_or_404(ClinicSettings, 1, "The clinic has no settings yet; run the migrations.")


def timezone_name() -> str:
    """The settings row wins; CLINIC_TIMEZONE is the default until an admin sets one."""
    row = db.session.get(ClinicSettings, 1)
    return (row.timezone if row and row.timezone else None) or current_app.config["CLINIC_TIMEZONE"]


# Kept on the database session (one per request or job) rather than Flask's `g`: a worker has no request.
_ZONE = "careplan.clinic.zone"


def zone() -> ZoneInfo:
    info = db.session.info
    if _ZONE not in info:
        info[_ZONE] = ZoneInfo(timezone_name())
    return info[_ZONE]


def effective_settings() -> dict:
    """The settings as they apply now: the time zone falls back to CLINIC_TIMEZONE."""
    row = settings()
    values = {c.key: getattr(row, c.key) for c in ClinicSettings.__table__.columns if c.key != "id"}
    values["timezone"] = timezone_name()
    return values


def check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"'{name}' is not an IANA time zone", fields={"timezone": "unknown time zone"}) from None


def update_settings(changes: dict) -> ClinicSettings:
    row = settings()
    if "timezone" in changes and changes["timezone"]:
        check_zone(changes["timezone"])
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.commit()
    db.session.info.pop(_ZONE, None)
    return row


def local_datetime(day: date, clock: time) -> datetime:
    """A wall-clock time on a date in the clinic, as an aware datetime (fold 0 at a repeated hour)."""
    return datetime.combine(day, clock, tzinfo=zone())


def wall_time_exists(day: date, clock: time) -> bool:
    """False inside the hour a daylight-saving change skips: 02:30 on a spring-forward night names the same
    instant as 03:30, so offering both would list one instant twice."""
    moment = local_datetime(day, clock)
    back = moment.astimezone(timezone.utc).astimezone(zone())
    return (back.date(), back.time()) == (day, clock)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = zone()
    return datetime.combine(day, time(0), tzinfo=tz), datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(zone())


def disciplines(include_inactive: bool = False) -> list[Discipline]:
    query = select(Discipline).order_by(Discipline.core.desc(), Discipline.name)
    if not include_inactive:
        query = query.where(Discipline.active.is_(True))
    return list(db.session.scalars(query))


def discipline_name(code: str) -> str:
    """A discipline's name in the language being rendered (the clinic's names are data; the catalogue knows the
    reference ones), or its code once it is gone; read through the session's identity map."""
    discipline = db.session.get(Discipline, code)
    return gettext(discipline.name) if discipline else code


def discipline_codes() -> set[str]:
    return set(db.session.scalars(select(Discipline.code).where(Discipline.active.is_(True))))


def add_discipline(data: dict) -> Discipline:
    if db.session.get(Discipline, data["code"]) is not None:
        raise Conflict(f"Discipline '{data['code']}' exists already.", fields={"code": "already exists"})
    row = Discipline(**data)
    db.session.add(row)
    db.session.commit()
    return row


def update_discipline(code: str, changes: dict) -> Discipline:
    row = get_or_404(Discipline, code, f"No discipline '{code}'.")
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.commit()
    return row


def check_disciplines(codes: list[str], field: str = "disciplines") -> None:
    known = discipline_codes()
    errors = {f"{field}[{i}]": f"unknown discipline '{c}'" for i, c in enumerate(codes) if c not in known}
    if errors:
        raise Invalid("Unknown discipline.", fields=errors)


def within_windows(windows, start: datetime, end: datetime) -> bool:
    """Whether [start, end) lies inside one of these weekly windows (a provider's or a patient's) on its day."""
    day = to_local(start).date()
    return any(w.day == day.weekday() and local_datetime(day, w.start) <= start
               and end <= local_datetime(day, w.end) for w in windows)


def today() -> date:
    """The clinic's date now, in its zone."""
    from careplan.db import utcnow

    return to_local(utcnow()).date()


def settings_row() -> ClinicSettings | None:
    """The clinic's settings row, or None before the migrations made it (a page may render even then)."""
    return db.session.get(ClinicSettings, 1)
