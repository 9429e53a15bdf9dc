"""The patient's language: English or French, through Flask-Babel and the catalogues in careplan/translations.

Whose language a page or an e-mail is in:
* an e-mail, or a page behind an e-mail link: the patient it is for (`patient_language`, applied with
  `speaking(...)`);
* a signed-in patient's pages: their own;
* staff pages, and the sign-in page everyone shares: STAFF_LANGUAGE, English (their plain words go through the
  same gettext and have their French; sentences with values inside and the Python flashes are not marked yet).

A patient's `language` empty means the clinic's `default_language`.

The clinic's own words (discipline names, practitioner titles, the phases' purposes of the protocol
templates) are data; `extract_disciplines` and `extract_protocol_purposes` put them into the catalogue,
so `gettext` finds their French, and a name an admin changed shows as typed.
"""
from __future__ import annotations

import ast
import json
from contextlib import contextmanager

from datetime import date, datetime, time, timedelta

from babel.dates import format_date
from flask import g, has_request_context
from flask_babel import Babel, force_locale, get_locale, refresh

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
STAFF_LANGUAGE = "en"

babel = Babel()


def language() -> str:
    """The language being rendered now."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def long_day(value: date) -> str:
    """Tuesday 5 January 2027 / mardi 5 janvier 2027."""
    return format_date(value, "EEEE d MMMM y", locale=language())


def short_day(value: date, *, with_year: bool = False) -> str:
    """Tue 5 Jan (and the year, when it is not this year in the clinic, or always `with_year`)."""
    from careplan.clinic import service as clinic
    from careplan.db import utcnow

    this_year = clinic.to_local(utcnow()).year
    short = value.year == this_year and not with_year
    return format_date(value, "EEE d MMM" if short else "EEE d MMM y", locale=language())


def away_span(starts_at: datetime, ends_at: datetime, *, with_year: bool = False) -> str:
    """A time off as people say it, wherever it is shown. It is stored as a start and an end, and whole days end
    at the next day's midnight: "Mon 28 Dec 00:00 to Sat 2 Jan 00:00" read as if Saturday were off too.
    `with_year`: for text that is stored, and read in another year."""
    from flask_babel import gettext

    from careplan.clinic import service as clinic

    def day(value: date) -> str:
        return short_day(value, with_year=with_year)

    start, end = clinic.to_local(starts_at), clinic.to_local(ends_at)
    if start.time() == time.min and end.time() == time.min:
        last = end.date() - timedelta(days=1)
        if last == start.date():
            return gettext("%(day)s, all day", day=day(last))
        return gettext("%(first)s to %(last)s, all day", first=day(start.date()), last=day(last))
    clocks = {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
    if start.date() == end.date():
        return gettext("%(day)s, %(start)s to %(end)s", day=day(start.date()), **clocks)
    return gettext("%(first)s %(start)s to %(last)s %(end)s", first=day(start.date()),
                   last=day(end.date()), **clocks)


def clinic_language() -> str:
    from careplan.clinic.models import ClinicSettings
    from careplan.extensions import db

    row = db.session.get(ClinicSettings, 1)
    return (row.default_language if row is not None and row.default_language else None) or DEFAULT_LANGUAGE


def patient_language(patient) -> str:
    return (patient.language if patient is not None and patient.language in LANGUAGES else None) or clinic_language()


def select_locale() -> str:
    if "careplan_language" in g:
        return g.careplan_language
    if not has_request_context():
        return clinic_language()
    from careplan.auth.edge import current_user
    from careplan.errors import UNREACHABLE

    try:
        user = current_user()
    except UNREACHABLE:
        # The error page saying the database is away cannot ask the database whose language to speak.
        return STAFF_LANGUAGE
    if user is None:
        # The sign-in page is everyone's, staff's included, and speaks like the staff pages for now.
        return STAFF_LANGUAGE
    if user.role == "patient":
        from careplan.extensions import db
        from careplan.patients.models import Patient

        return patient_language(db.session.get(Patient, user.patient_id))
    return STAFF_LANGUAGE


def speak_to(patient) -> None:
    """The rest of this request answers in this patient's language (a page behind their e-mail link)."""
    g.careplan_language = patient_language(patient)
    refresh()


@contextmanager
def speaking(patient):
    """Render inside this block in the patient's language (an e-mail, from any context)."""
    with force_locale(patient_language(patient)):
        yield


def register(app) -> None:
    from careplan import REPOSITORY

    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(REPOSITORY / "careplan" / "translations"))
    babel.init_app(app, locale_selector=select_locale)


# --- extracting the clinic's words from its data (babel.cfg names these) -------------------------------

def extract_protocol_purposes(fileobj, keywords, comment_tags, options):
    """A protocol template's phase purposes (config/protocols/*.json): what a patient reads on "My plan"."""
    template = json.load(fileobj)
    for phase in template.get("phases", []):
        if phase.get("purpose"):
            yield 1, "gettext", phase["purpose"], ["phase purpose, protocol " + template.get("name", "")]


def extract_disciplines(fileobj, keywords, comment_tags, options):
    """The reference disciplines the first migration writes: their names and practitioner titles."""
    tree = ast.parse(fileobj.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "DISCIPLINES" for t in node.targets):
            for code, name, title, _core in ast.literal_eval(node.value):
                yield node.lineno, "gettext", name, [f"discipline {code}"]
                yield node.lineno, "gettext", title, [f"practitioner of {code}"]
