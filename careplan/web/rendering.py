"""What every page template can use: the visitor, their navigation, the clinic, and clinic-zone times."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import g, has_request_context
from flask_babel import gettext, lazy_gettext
from markupsafe import Markup, escape

from careplan.auth.edge import current_user
from careplan.clinic import service as clinic
from careplan.clinic.models import ClinicSettings
from careplan.clinic.service import DAYS
from careplan.db import utcnow
from careplan.i18n import away_span as i18n_away_span, language, long_day, short_day as i18n_short_day
from careplan.web import bp

# (label, path) per role, in the page's language; a page added in a later round adds its entry here.
NAVIGATION = {
    "admin": [(lazy_gettext("Calendar"), "/desk/calendar"), (lazy_gettext("Today"), "/desk"),
              (lazy_gettext("Patients"), "/desk/patients"), (lazy_gettext("Providers"), "/admin/providers"),
              (lazy_gettext("Templates"), "/admin/templates"), (lazy_gettext("Users"), "/admin/users"),
              (lazy_gettext("Locations"), "/admin/locations"), (lazy_gettext("Audit"), "/admin/audit"),
              (lazy_gettext("Webhooks"), "/admin/webhooks")],
    "front_desk": [(lazy_gettext("Calendar"), "/desk/calendar"), (lazy_gettext("Today"), "/desk"),
                   (lazy_gettext("Patients"), "/desk/patients"), (lazy_gettext("Providers"), "/admin/providers")],
    "provider": [(lazy_gettext("My day"), "/me/day"), (lazy_gettext("My week"), "/me/week"),
                 (lazy_gettext("My patients"), "/me/patients")],
    "patient": [(lazy_gettext("My appointments"), "/my/appointments"), (lazy_gettext("My plan"), "/my/plan")],
}

ROLE_NAMES = {"admin": lazy_gettext("Administrator"), "front_desk": lazy_gettext("Front desk"),
              "provider": lazy_gettext("Clinician"), "patient": lazy_gettext("Patient")}

# Calm, distinguishable tints (text stays dark on each, AA contrast); a discipline keeps its place in the clinic's list.
DISCIPLINE_TINTS = 9


def _disciplines() -> list:
    """The clinic's disciplines, read once per request for every filter below."""
    if "page_disciplines" not in g:
        g.page_disciplines = clinic.disciplines(include_inactive=True)
    return g.page_disciplines


def discipline_tints() -> dict[str, int]:
    # Built once per request: the calendar asks for hundreds of blocks' tints.
    if "page_tints" not in g:
        g.page_tints = {d.code: i % DISCIPLINE_TINTS for i, d in enumerate(_disciplines())}
    return g.page_tints


@bp.app_context_processor
def page_context() -> dict:
    # E-mails render from the dispatcher, outside any request: they have no visitor.
    user = current_user() if has_request_context() else None
    return {
        "visitor": user,
        "navigation": NAVIGATION.get(user.role, []) if user else [],
        "role_name": ROLE_NAMES.get(user.role, "") if user else "",
        # Any template may render (the API docs too), even before the clinic has its settings row.
        "clinic": clinic.settings_row() or ClinicSettings(name="careplan"),
        "clinic_zone_name": clinic.timezone_name,
        "tint": lambda code: discipline_tints().get(code, 0),
        "one_day": timedelta(days=1),
        "one_week": timedelta(days=7),
        "one_minute": timedelta(minutes=1),
        "now": utcnow(),
        "page_language": language,
    }



PHASE_NAMES = {"acute": lazy_gettext("Acute"), "subacute": lazy_gettext("Subacute"),
               "maintenance": lazy_gettext("Maintenance")}


@bp.app_template_filter("phase_name")
def phase_name(name: str) -> str:
    return str(PHASE_NAMES[name]) if name in PHASE_NAMES else name.capitalize()


@bp.app_template_filter("clock")
def clock(moment: datetime | None) -> str:
    """09:30, in the clinic's zone."""
    return "" if moment is None else clinic.to_local(moment).strftime("%H:%M")


@bp.app_template_filter("local_date")
def local_date(moment: datetime) -> date:
    """The clinic's calendar date of a moment."""
    return clinic.to_local(moment).date()


@bp.app_template_filter("day")
def day(value: datetime | date | None) -> str:
    """Tuesday 5 January 2027 (a datetime is first brought to the clinic's zone)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clinic.to_local(value).date()
    return long_day(value)


@bp.app_template_filter("short_day")
def short_day(value: datetime | date) -> str:
    """Tue 5 Jan (and the year, when it is not this year)."""
    if isinstance(value, datetime):
        value = clinic.to_local(value).date()
    return i18n_short_day(value)


@bp.app_template_filter("away_span")
def away_span(away) -> str:
    return i18n_away_span(away.starts_at, away.ends_at)


@bp.app_template_filter("away_on")
def away_on(away, day: date) -> str:
    """A time off as one day's list says it: a week's absence read "away 00:00–00:00" on each of its days."""
    first, last = clinic.local_day_bounds(day)
    if away.starts_at <= first and away.ends_at >= last:
        return gettext("away all day")
    if away.starts_at <= first:
        return gettext("away until %(end)s", end=clock(away.ends_at))
    if away.ends_at >= last:
        return gettext("away from %(start)s", start=clock(away.starts_at))
    return gettext("away %(start)s–%(end)s", start=clock(away.starts_at), end=clock(away.ends_at))


@bp.app_template_filter("discipline")
def discipline(code: str) -> str:
    if "page_discipline_names" not in g:
        g.page_discipline_names = {d.code: d.name for d in _disciplines()}
    names = g.page_discipline_names
    # The clinic's names are data; the catalogue knows the reference ones (careplan.i18n).
    return gettext(names[code]) if code in names else code.replace("_", " ").capitalize()


def discipline_labels() -> dict[str, str]:
    """Every discipline's name as `discipline` gives it, worked out once for a page that shows hundreds
    (the clinic calendar's blocks); the request's language does not change while it renders."""
    if "page_discipline_labels" not in g:
        g.page_discipline_labels = {d.code: discipline(d.code) for d in _disciplines()}
    return g.page_discipline_labels


@bp.app_template_filter("discipline_chip")
def discipline_chip(code: str) -> Markup:
    tint = discipline_tints().get(code, 0)
    return Markup(f'<span class="chip tint-{tint}">{escape(discipline(code))}</span>')


@bp.app_template_filter("field_label")
def field_label(name: str) -> str:
    """An input's name as the error summary says it: "availability-2-end" -> "Weekly hours, row 3, until"."""
    parts = name.split("-")
    if parts[0] in FIELD_GROUPS:
        return FIELD_GROUPS[parts[0]](parts[1:])
    if parts[0] == "availability" and len(parts) >= 2 and parts[1].isdigit():
        words = f"Weekly hours, row {int(parts[1]) + 1}"
        return words + (f", {WINDOW_PART_NAMES.get(parts[2], parts[2])}" if len(parts) > 2 else "")
    return FIELD_NAMES.get(name, name.replace("_", " ").capitalize())


FIELD_NAMES = {"email": "E-mail", "date_of_birth": "Date of birth", "start": "Start", "end": "End",
               "start_date": "Start date", "region": "Region of the spine", "provider_id": "Clinician",
               "patient_id": "Patient number", "location_id": "Location", "note": "Why this version"}
def _red_flag(parts: list[str]) -> str:
    from careplan.intake.models import RED_FLAGS

    return "Red flag: " + RED_FLAGS.get(parts[0], parts[0]) if parts else "Red-flag screen"


def _phase_input(parts: list[str]) -> str:
    """phases-0-sessions-1-minutes -> "Phase 1, session line 2, minutes"."""
    words = [f"Phase {int(parts[0]) + 1}"] if parts and parts[0].isdigit() else ["Phases"]
    if len(parts) >= 3 and parts[1] == "sessions" and parts[2].isdigit():
        words.append(f"session line {int(parts[2]) + 1}")
        parts = parts[3:]
    else:
        parts = parts[1:]
    return ", ".join(words + [p.replace("_", " ") for p in parts])


FIELD_GROUPS = {
    "red_flags": _red_flag,
    "severity_answers": lambda parts: "Severity: " + " ".join(parts).replace("_", " "),
    "phases": _phase_input,
    "care_team": lambda parts: "Care team" + (f", row {int(parts[0]) + 1}" if parts and parts[0].isdigit() else ""),
    "team": lambda parts: "Care team: " + (discipline(parts[0]) if parts else ""),
}

WINDOW_PART_NAMES = {"day": "day", "start": "from", "end": "until"}


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@bp.app_template_filter("weekday_name")
def weekday_name(day: int) -> str:
    return WEEKDAY_NAMES[day]


@bp.app_template_filter("weekly_summary")
def weekly_summary(windows) -> str:
    """"Mon, Wed 12:00–20:00 · Sat 08:00–14:00": days that share hours are named together."""
    by_hours: dict[tuple, list[int]] = {}
    for w in windows:
        by_hours.setdefault((w.start, w.end), []).append(w.day)
    parts = [(days, start, end) for (start, end), days in by_hours.items()]
    parts.sort(key=lambda p: (p[0][0], p[1]))
    return " · ".join(f"{_day_span(days)} {start:%H:%M}–{end:%H:%M}" for days, start, end in parts) or "—"


@bp.app_template_filter("hours")
def hours(window) -> str:
    """A weekly window's hours: 08:00–16:00."""
    return f"{window.start:%H:%M}–{window.end:%H:%M}"


def _day_span(days: list[int]) -> str:
    days = sorted(set(days))
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{DAYS[days[0]].capitalize()}–{DAYS[days[-1]].capitalize()}"
    return ", ".join(DAYS[d].capitalize() for d in days)


@bp.app_template_filter("practitioner")
def practitioner(code: str) -> str:
    """The clinic's word for a provider of this discipline ("physiotherapist")."""
    titles = {d.code: d.practitioner_title for d in _disciplines()}
    return gettext(titles[code]) if code in titles else discipline(code).lower()


# Where an address may wrap without tearing a word: after a slash (not between the two of "//"), before a dot, a
# query's ? and & or a #, and after an = (a parameter keeps its name: "?pwd=" / "bXlQ..."), as style guides
# break a URL across lines.
_URL_JOINTS = re.compile(r"(?<=/)(?!/)|(?=[.?&#])|(?<==)")


@bp.app_template_filter("breakable_url")
def breakable_url(url: str) -> Markup:
    """The address as a link's text that a phone's narrow line wraps at its joints (<wbr>): wrapped anywhere, a
    video link read "https://video.riverside.exampl" / "e/join/2-8"."""
    return Markup("<wbr>").join(escape(part) for part in _URL_JOINTS.split(url) if part)


@bp.app_template_filter("iso")
def iso(moment: datetime) -> str:
    """For <time datetime>: the clinic's wall clock with its offset."""
    return clinic.to_local(moment).isoformat()


@bp.app_template_filter("iso_local")
def iso_local(moment: datetime) -> str:
    """The clinic's wall clock as a datetime-local input and the booking links take it: 2027-01-05T09:00."""
    return clinic.to_local(moment).strftime("%Y-%m-%dT%H:%M")


@bp.app_template_filter("birth_date")
def birth_date(value: date | None) -> str:
    """5 January 1970 (no weekday: nobody needs it for a birthday)."""
    return "" if value is None else f"{value.day} {value:%B %Y}"


@bp.app_template_filter("provider_name")
def provider_name(provider_id: int) -> str:
    from careplan.providers.service import providers_by_id

    provider = providers_by_id([provider_id]).get(provider_id)
    return provider.name if provider is not None else ""
