"""Schema building blocks shared by every capability: clock times, clinic datetimes, weekly windows."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from apispec.ext.marshmallow.common import resolve_schema_cls
from werkzeug.routing import IntegerConverter, UnicodeConverter

from careplan.clinic.service import DAYS



def schema_name(schema) -> str:
    """OpenAPI component names: `PatientSchema(partial=True)` becomes `PatientPatch`, not `Patient1`."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema")
    if isinstance(schema, Schema) and schema.partial:
        name += "Patch"
    return name


# How long a session may be, everywhere one is entered (a template's line or assessment, a plan's, a booking,
# a move, a free-slot search). Lengths are clinical: any whole number of minutes (a therapy hour is 50);
# only starts keep to the clinic's slot grid, so changing the grid never makes a template unbookable.
SESSION_MINUTES = (5, 480)


def session_minutes_problem(minutes) -> str | None:
    """The same rule for a length that reaches a service without passing a schema (proposals, the demo)."""
    low, high = SESSION_MINUTES
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        return "must be a whole number of minutes"
    if not low <= minutes <= high:
        return f"must be between {low} and {high}"
    return None


class WholeNumber(fields.Integer):
    """An integer that refuses fractions: 2.5 weeks or 50.5 minutes is a 422, where marshmallow's Integer would
    quietly cut it down to 2 or 50. Every count, length and id a client sends is one of these."""

    default_error_messages = {"fractional": "must be a whole number"}

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("fractional")
        return super()._validated(value)


class SessionMinutes(WholeNumber):
    """A session's length in whole minutes, 5 to 480: 50 (or "50" from a form), never 50.5, 0 or -50."""

    default_error_messages = {"fractional": "must be a whole number of minutes"}

    def __init__(self, **kwargs):
        low, high = SESSION_MINUTES
        kwargs.setdefault("validate", validate.Range(min=low, max=high, error=f"must be between {low} and {high}"))
        super().__init__(**kwargs)


_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ClockTime(fields.Field):
    """A wall-clock time "HH:MM" in the clinic's zone."""

    def _serialize(self, value: time | None, attr, obj, **kwargs):
        return None if value is None else value.strftime("%H:%M")

    def _deserialize(self, value, attr, data, **kwargs) -> time:
        if not isinstance(value, str) or not _CLOCK.match(value):
            raise ValidationError("must be a time of day as HH:MM (00:00 to 23:59)")
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))


# Every date and time anyone enters (a booking, an absence, a note, a date of birth, a search bound) lies in
# these years. Outside them an entry is a slip of the keyboard (0001, 20270), and worse: turning it into the
# clinic's zone overflows, so a record saved with it would make every later read of its owner fail.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
EARLIEST = datetime(EARLIEST_YEAR, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(LATEST_YEAR + 1, 1, 1, tzinfo=timezone.utc)
IMPLAUSIBLE = f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}"


def plausible(moment: date | datetime) -> bool:
    """A date, or an aware datetime, within the years people enter (naive datetimes are read as UTC)."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return EARLIEST <= moment < LATEST
    return EARLIEST_YEAR <= moment.year <= LATEST_YEAR


def Plausible(moment: date | datetime) -> None:
    """The same check as a marshmallow validator, for fields that are not the shared ones below."""
    if not plausible(moment):
        raise ValidationError(IMPLAUSIBLE)


class ClinicDate(fields.Date):
    """A calendar date (YYYY-MM-DD) within the plausible years."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        Plausible(day)
        return day


class ClinicDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset on the way in (naive is refused), within the plausible years; the clinic's local
    time on the way out."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        from careplan.clinic.service import to_local

        return to_local(value).isoformat()

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("must be an ISO 8601 date and time with a UTC offset")
        try:
            moment = super()._deserialize(value, attr, data, **kwargs)
        except (ValidationError, OverflowError):
            raise ValidationError("must be an ISO 8601 date and time with a UTC offset, e.g. 2027-01-05T09:00:00-05:00") from None
        Plausible(moment)
        return moment


class Weekday(fields.Field):
    """"mon".."sun" outside, 0..6 inside (Monday first, as Python's weekday())."""

    def _serialize(self, value: int | None, attr, obj, **kwargs):
        return None if value is None else DAYS[value]

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if value not in DAYS:
            raise ValidationError(f"must be one of {', '.join(DAYS)}")
        return DAYS.index(value)


class WeeklyWindowSchema(Schema):
    day = Weekday(required=True, metadata={"enum": list(DAYS)})
    start = ClockTime(required=True, metadata={"pattern": _CLOCK.pattern, "example": "08:00"})
    end = ClockTime(required=True, metadata={"pattern": _CLOCK.pattern, "example": "16:00"})

    def load(self, data, *, many=None, partial=None, unknown=None):
        # A window is whole or absent, even inside a partial update of its owner.
        return super().load(data, many=many, partial=False, unknown=unknown)

    @validates_schema
    def _start_before_end(self, data, **kwargs):
        if data["start"] >= data["end"]:
            raise ValidationError("must be after start", "end")


def window_overlaps(windows: list[dict]) -> dict[int, str]:
    """Positions of windows that overlap an earlier one on the same day, with what they overlap."""
    problems: dict[int, str] = {}
    ordered = sorted(range(len(windows)), key=lambda i: (windows[i]["day"], windows[i]["start"]))
    for before, after in zip(ordered, ordered[1:]):
        a, b = windows[before], windows[after]
        if a["day"] == b["day"] and b["start"] < a["end"]:
            problems[after] = (f"overlaps window {before} ({DAYS[a['day']]} {a['start']:%H:%M}-{a['end']:%H:%M}); "
                               "merge them into one")
    return problems


class WithAvailability(Schema):
    """Weekly availability windows, none overlapping another (checked once each window is valid)."""

    availability = fields.List(fields.Nested(WeeklyWindowSchema))

    @validates_schema
    def _windows_apart(self, data, **kwargs):
        problems = window_overlaps(data.get("availability") or [])
        if problems:
            raise ValidationError({"availability": {i: [message] for i, message in problems.items()}})



class RecordIdConverter(IntegerConverter):
    """`<int:...>` in every URL: a record id fits the database's integer, else the URL is simply not found."""

    MAX = 2**31 - 1

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=self.MAX)

    @staticmethod
    def openapi(_converter) -> dict:
        return {"type": "integer", "minimum": 1, "maximum": RecordIdConverter.MAX}


class TextConverter(UnicodeConverter):
    """`<token>`, `<string:code>`: a path part with a NUL byte matches no route (404), as PostgreSQL can store
    no NUL and its driver would refuse the lookup with an error instead of "not found"."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\x00]", 1)


# `<path:...>` keeps Werkzeug's converter: its one use, FHIR's catch-all, answers 404 without a lookup.
URL_CONVERTERS = {"default": TextConverter, "string": TextConverter, "int": RecordIdConverter}
