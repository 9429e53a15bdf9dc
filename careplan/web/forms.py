"""Reading HTML forms into the dicts the services take, validated by the API's own schemas.

Errors come back keyed by the form's input names, so a template shows each
one next to its field: "email", "availability-2-end", "availability-2" (the
row as a whole), "disciplines", "start".
"""
from __future__ import annotations

import re
from datetime import datetime

from marshmallow import Schema, ValidationError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from careplan.clinic import service as clinic
from careplan.clinic.service import DAYS
from careplan.errors import CHANGED_MEANWHILE, PreconditionFailed, ServiceError, flatten_messages
from careplan.extensions import db

WINDOW_PARTS = ("day", "start", "end")
_ROW_INPUT = re.compile(r"^availability-(\d+)-(day|start|end|location)$")
_SCHEMA_PATH = re.compile(r"^availability\[(\d+)\](?:\.(\w+))?$")


class WindowRows:
    """The weekly-availability editor: numbered rows of day/start/end; an empty row is simply not a window."""

    def __init__(self, rows: list[dict]):
        self.rows = rows

    @classmethod
    def from_form(cls, form: MultiDict) -> WindowRows:
        found: dict[int, dict] = {}
        for key in form:
            match = _ROW_INPUT.match(key)
            if match:
                found.setdefault(int(match[1]), {})[match[2]] = form.get(key, "").strip()
        return cls([{"row": n, **{p: found[n].get(p, "") for p in WINDOW_PARTS + ("location",)}}
                    for n in sorted(found)])

    @classmethod
    def from_windows(cls, windows) -> WindowRows:
        return cls([{"row": n, "day": DAYS[w.day], "start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}",
                     "location": str(getattr(w, "location_id", None) or "")}
                    for n, w in enumerate(windows)])

    def filled(self) -> list[dict]:
        return [r for r in self.rows if any(r[p] for p in WINDOW_PARTS)]

    def as_data(self) -> list[dict]:
        """The windows; a provider's row carries its location (the select is there when the clinic has any)."""
        return [{**{p: r[p] for p in WINDOW_PARTS}, **({"location_id": r["location"]} if r.get("location") else {})}
                for r in self.filled()]

    def with_blanks(self, count: int = 2) -> list[dict]:
        """The filled rows renumbered (as errors name them), then empty ones to add windows without JavaScript."""
        rows = [{**r, "row": n} for n, r in enumerate(self.filled())]
        return rows + [{"row": len(rows) + i, "day": "", "start": "", "end": "", "location": ""} for i in range(count)]

    @staticmethod
    def input_name(schema_path: str) -> str:
        """availability[1].end -> availability-1-end: the n-th window is the n-th row once blanks are dropped
        (a window's location_id is the row's location select)."""
        match = _SCHEMA_PATH.match(schema_path)
        if not match:
            return schema_path
        part = "location" if match[2] == "location_id" else match[2]
        return f"availability-{match[1]}" + (f"-{part}" if part else "")


def load(schema: Schema, data: dict) -> tuple[dict | None, dict[str, str]]:
    """(loaded data, {}) or (None, {input name: what is wrong}); an empty box counts as not filled in."""
    data = {key: value for key, value in data.items()
            if not (value == "" and key in schema.fields and schema.fields[key].required)}
    try:
        return schema.load(data), {}
    except ValidationError as exc:
        return None, input_errors(flatten_messages(exc.messages))


# The error `submit` answers when the record changed since the form was filled (careplan.versions): the
# page then shows the current record instead of the refused form.
CHANGED = "_changed"


def submit(schema: Schema, data: dict, save) -> tuple[object | None, dict[str, str]]:
    """Validate with the API's schema, then save through the service: (record, {}) or (None, errors).

    Services commit once at the end, so a refusal leaves nothing half-saved.
    """
    loaded, errors = load(schema, data)
    if errors:
        return None, errors
    try:
        return save(loaded), {}
    except PreconditionFailed as exc:
        db.session.rollback()
        return None, {CHANGED: exc.message}
    except StaleDataError:
        db.session.rollback()
        return None, {CHANGED: CHANGED_MEANWHILE}
    except ServiceError as exc:
        db.session.rollback()
        # A red flag's fields name the screen's answers, not this form's inputs: its message alone says it.
        errors = input_errors(exc.fields) if exc.code != "red_flag" else {}
        if exc.code != "invalid" or not errors:
            # A refusal that is more than a mistyped field (a red flag, a conflict) says why in its own words.
            errors = {"_form": exc.message, **errors}
        return None, errors


def form_version(form: MultiDict) -> int | None:
    """The version of the record an edit form was filled from (its hidden field); None from a form without one,
    which saves over whatever is current, as the API does without If-Match."""
    value = form.get("version")
    if value is None:
        return None
    # A version that is not a number matches none: the visitor sees the current record, nothing is overwritten.
    return int(value) if value.isdigit() else -1


# The schemas speak to programs; an empty box on a form is simply "required".
PLAIN_WORDS = {"Missing data for required field.": "Required.", "Shorter than minimum length 1.": "Required.",
               "Field may not be null.": "Required."}


def input_errors(fields: dict[str, str]) -> dict[str, str]:
    """Service or schema field paths, renamed to the inputs that carry them."""
    errors: dict[str, str] = {}
    for path, message in fields.items():
        name = re.sub(r"^(disciplines)\[\d+\]$", r"\1", WindowRows.input_name(path))
        errors[name] = PLAIN_WORDS.get(message, message)
    return errors


def text(form: MultiDict, *names: str) -> dict[str, str]:
    return {name: form.get(name, "").strip() for name in names}


def local_moment(value: str) -> str | None:
    """A datetime-local input ("2027-01-05T09:00"), read as the clinic's wall clock, as ISO 8601 with offset."""
    if not value:
        return None
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return value
    return naive.replace(tzinfo=clinic.zone()).isoformat()


def local_input(moment: datetime | None) -> str:
    """The value a datetime-local input shows for a stored instant."""
    return "" if moment is None else clinic.to_local(moment).strftime("%Y-%m-%dT%H:%M")
