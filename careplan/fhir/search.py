"""FHIR search parameters: parsing and matching, independent of any resource.

Searches are strict: a parameter the server does not support is refused with
400 rather than silently ignored, so a client never mistakes an unfiltered
result for a filtered one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from careplan.clinic.service import local_datetime
from careplan.errors import ServiceError
from careplan.schemas import EARLIEST_YEAR, IMPLAUSIBLE, LATEST_YEAR, plausible

# Parameters any search accepts; `_format` is handled by content negotiation.
CONTROL = {"_count", "_offset", "_format", "_pretty"}
DEFAULT_COUNT = 100
MAX_COUNT = 500

_DATE_PREFIXES = ("eq", "gt", "lt", "ge", "le")
_DAY = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


class BadSearch(ServiceError):
    """A search the server cannot run as asked (FHIR answers 400 for these)."""

    status = 400
    code = "invalid_search"


@dataclass(frozen=True)
class DateCriterion:
    """One `date=<prefix><value>`: the value is the half-open range [low, high) its precision implies."""

    prefix: str
    low: datetime
    high: datetime

    def matches_period(self, start: datetime, end: datetime) -> bool:
        """FHIR's rules for a target that is itself a range [start, end)."""
        contained = self.low <= start and end <= self.high
        if self.prefix == "eq":
            return contained
        if self.prefix == "gt":
            return end > self.high
        if self.prefix == "lt":
            return start < self.low
        if self.prefix == "ge":
            return end > self.high or contained
        return start < self.low or contained

    def point_bounds(self) -> tuple[datetime | None, datetime | None]:
        """The same rules for an instant target, as `lower <= instant < upper`."""
        return {
            "eq": (self.low, self.high),
            "gt": (self.high, None),
            "ge": (self.low, None),
            "lt": (None, self.low),
            "le": (None, self.high),
        }[self.prefix]


def parse_date(name: str, raw: str) -> DateCriterion:
    prefix, value = (raw[:2], raw[2:]) if raw[:2] in _DATE_PREFIXES else ("eq", raw)
    if raw[:2].isalpha() and raw[:2] not in _DATE_PREFIXES:
        raise BadSearch(f"Prefix '{raw[:2]}' is not supported; use eq, ge, gt, le or lt.", fields={name: raw})
    day = _DAY.match(value)
    if day:
        year, month, dom = int(day[1]), int(day[2] or 1), int(day[3] or 1)
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise BadSearch(f"'{name}' {IMPLAUSIBLE}.", fields={name: raw})
        try:
            first = date(year, month, dom)
        except ValueError:
            raise BadSearch(f"'{value}' is not a date.", fields={name: raw}) from None
        if day[3]:
            after = first + timedelta(days=1)
        elif day[2]:
            after = date(year + month // 12, month % 12 + 1, 1)
        else:
            after = date(year + 1, 1, 1)
        # A date without a time is a day in the clinic, as people there mean it.
        return DateCriterion(prefix, local_datetime(first, datetime.min.time()),
                             local_datetime(after, datetime.min.time()))
    # An offset's "+" arrives as a space when the client did not percent-encode it.
    value = value.replace(" ", "+")
    if _INSTANT.match(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BadSearch(f"'{value}' is not a date and time.", fields={name: raw}) from None
        if not plausible(moment):
            raise BadSearch(f"'{name}' {IMPLAUSIBLE}.", fields={name: raw})
        precision = timedelta(seconds=1) if value[16:17] == ":" else timedelta(minutes=1)
        return DateCriterion(prefix, moment, moment + precision)
    raise BadSearch("Dates are YYYY, YYYY-MM, YYYY-MM-DD or a date and time with a UTC offset.",
                    fields={name: raw})


def point_window(criteria: list[DateCriterion]) -> tuple[datetime | None, datetime | None]:
    """All criteria on one instant at once (repeated parameters are ANDed)."""
    lower = upper = None
    for criterion in criteria:
        low, high = criterion.point_bounds()
        if low is not None and (lower is None or low > lower):
            lower = low
        if high is not None and (upper is None or high < upper):
            upper = high
    return lower, upper


class Query:
    """The parameters of one search request, checked against what the resource type supports."""

    def __init__(self, args, supported: dict[str, str]):
        self.args = args
        for name in args:
            if name not in supported and name not in CONTROL:
                raise BadSearch(f"Search parameter '{name}' is not supported here; "
                                f"supported: {', '.join(sorted(supported))}.", fields={name: "not supported"})
            if name not in CONTROL and supported[name] != "date" and len(args.getlist(name)) > 1:
                raise BadSearch(f"Give '{name}' once; separate alternatives with commas.",
                                fields={name: "repeated"})
        self.count = self._whole("_count", DEFAULT_COUNT, 0, MAX_COUNT)
        self.offset = self._whole("_offset", 0, 0, 10**9)

    def _whole(self, name: str, default: int, lowest: int, highest: int) -> int:
        raw = self.args.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or not lowest <= int(raw) <= highest:
            raise BadSearch(f"'{name}' must be a whole number from {lowest} to {highest}.", fields={name: raw})
        return int(raw)

    def has(self, name: str) -> bool:
        return name in self.args

    def tokens(self, name: str) -> set[str] | None:
        """`status=booked,fulfilled` or `specialty=<system>|<code>`: the codes, or None when absent."""
        if name not in self.args:
            return None
        return {value.rpartition("|")[2] for value in self.args[name].split(",") if value}

    def ids(self, name: str, resource_type: str | None = None) -> set[int] | None:
        """Record ids from `_id=3,4` or references `patient=Patient/3` (a full URL works too)."""
        if name not in self.args:
            return None
        found: set[int] = set()
        for value in self.args[name].split(","):
            kind, _, last = value.rstrip("/").rpartition("/")
            if resource_type and kind and not kind.endswith(resource_type):
                raise BadSearch(f"'{name}' refers to a {resource_type}.", fields={name: value})
            if not last.isdigit() or int(last) > 2**31 - 1:
                raise BadSearch(f"'{value}' is not a {resource_type or 'resource'} id.", fields={name: value})
            found.add(int(last))
        return found

    def strings(self, name: str) -> list[str] | None:
        if name not in self.args:
            return None
        return [value.lower() for value in self.args[name].split(",") if value]

    def dates(self, name: str) -> list[DateCriterion]:
        return [parse_date(name, raw) for raw in self.args.getlist(name)]
