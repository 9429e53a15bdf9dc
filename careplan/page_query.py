"""The query parameters of pages: each page declares those it takes, any other one answers the 400 page.

The API refuses unknown query parameters with a 422 (careplan.extensions.CareplanApi); pages do the same
with a 400 page naming the parameter, so a misspelt `?dya=2027-03-01` never shows today's list as if it were
the day asked for, and a value a page cannot use (`?day=soon`, `?day=0001-01-01`) is named instead of
being quietly replaced or failing deeper down.
"""
from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app, request

from careplan.errors import ServiceError

# The query parameters a page takes, set on its view by `page_for(query=...)` or `takes_query(...)`.
QUERY_ATTRIBUTE = "page_query"
# The blueprints of pages (the API's and FHIR's operations have their own strict checks).
PAGE_BLUEPRINTS = ("web", "auth_web")


def local_path(value: str | None, default: str) -> str:
    """`value` when it is a path on this site (a form's `next` or `back`), else `default`: a form cannot be used
    to bounce a user elsewhere."""
    if value and value.startswith("/") and not value.startswith("//") and not urlsplit(value).netloc:
        return value
    return default


def with_query(path: str, **values) -> str:
    """`path` (a page of this site, maybe with a query already) with these query values put in."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in values]
    query += [(k, str(v)) for k, v in values.items()]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


class BadQuery(ServiceError):
    """A page's address carries a parameter the page does not take, or a value it cannot use: the 400 page
    names it (a misspelt `?dya=` would otherwise show today's list as if it were the day asked for)."""

    status = 400
    code = "bad_request"


def takes_query(*names: str):
    """Declare the query parameters a view takes (page_for does it with `query=`); any other one is refused."""

    def decorator(view):
        setattr(view, QUERY_ATTRIBUTE, frozenset(names))
        return view

    return decorator


def refuse_unknown_query() -> None:
    """An app-wide before_request that looks at pages only: every parameter must be one the page declared (none
    when it declared nothing), as the API's operations refuse theirs (with a 422)."""
    if request.blueprint not in PAGE_BLUEPRINTS or not request.args:
        return
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None:
        return
    known = getattr(view, QUERY_ATTRIBUTE, frozenset())
    unknown = sorted(set(request.args) - known)
    if unknown:
        takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
        raise BadQuery(f"This page does not take the parameter{'s' if len(unknown) > 1 else ''} "
                       f"{', '.join(unknown)} ({takes}).", fields={name: "unknown parameter" for name in unknown})


def query_date(name: str) -> date | None:
    """?name=YYYY-MM-DD within the plausible years; None when absent or empty; the 400 page otherwise."""
    from careplan.schemas import IMPLAUSIBLE, plausible

    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadQuery(f"The parameter {name} must be a date as YYYY-MM-DD.",
                       fields={name: "not a date (YYYY-MM-DD)"}) from None
    if not plausible(day):
        raise BadQuery(f"The parameter {name} {IMPLAUSIBLE}.", fields={name: IMPLAUSIBLE})
    return day


def query_int(name: str) -> int | None:
    """?name=<a record's id>; None when absent or empty; the 400 page otherwise."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    # Ids are the database's 32-bit integers: a longer number names no record and must not reach a query.
    if not value.isascii() or not value.isdigit() or len(value) > 10 or int(value) > 2**31 - 1:
        raise BadQuery(f"The parameter {name} must be a record's number.", fields={name: "not a record's number"})
    return int(value)


def query_choice(name: str, choices, default: str = "") -> str:
    """?name=<one of choices>; the default when absent or empty; the 400 page otherwise."""
    value = request.args.get(name, "").strip()
    if not value:
        return default
    if value not in choices:
        raise BadQuery(f"The parameter {name} must be one of {', '.join(choices)}.",
                       fields={name: "not one of " + ", ".join(choices)})
    return value
