"""Request logs without the secrets some URLs carry.

A calendar feed's URL and an e-mail's confirm/cancel link are their own credentials (no sign-in), so a
log line holding one is a working key in every log file and log shipper. Query strings may hold searches
for patients' names. Both are cut before a line is written: by gunicorn's access log (`RedactingLogger`,
set in config/gunicorn.conf.py) and by Werkzeug's development server (a filter on its logger).

A new route with a secret in its path belongs in SECRET_PATHS; tests/test_access_log.py checks that
every route with a `<token>` part is covered.
"""
from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

# Paths whose next segment is a secret.
SECRET_PATHS = ("/calendar/", "/api/v1/appointment-links/", "/api/v1/slot-offers/")
REDACTED = "[redacted]"

_SECRET_SEGMENT = re.compile("(" + "|".join(re.escape(path) for path in SECRET_PATHS) + r")[^/?#\s\"']+")
_QUERY = re.compile(r"\?([^\s\"'#]*)")
# Request and response headers that carry credentials, as gunicorn names their atoms.
_SECRET_ATOMS = ("{authorization}i", "{cookie}i", "{set-cookie}o", "{http_authorization}e", "{http_cookie}e")


def redact_query(query: str) -> str:
    """Keep each parameter's name (useful when reading a log), never its value."""
    if not query:
        return query
    return "&".join(f"{name}={REDACTED}" if sep else REDACTED
                    for name, sep, _ in (part.partition("=") for part in query.split("&")))


def redact(text: str) -> str:
    """Secret path segments and query values cut out of any text holding URLs or request lines."""
    text = _SECRET_SEGMENT.sub(lambda m: m.group(1) + REDACTED, text)
    return _QUERY.sub(lambda m: "?" + redact_query(m.group(1)), text)


class RedactingLogger(Logger):
    """gunicorn's logger; every access-log atom (request line, path, query, referer, headers) is redacted,
    whatever access_log_format picks (config/gunicorn.conf.py uses careplan.operations.logs.GunicornLogger,
    which also writes gunicorn's own lines as the service's)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str):
                atoms[key] = redact(value)
        # The bare query string atoms have no "?" for redact() to find.
        for key in ("q", "{query_string}e"):
            if atoms.get(key):
                atoms[key] = redact_query(atoms[key])
        for key in _SECRET_ATOMS:
            if key in atoms:
                atoms[key] = REDACTED
        return atoms


class RedactingFilter(logging.Filter):
    """For Werkzeug's request lines (`flask run`, the browser tests' server)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def register(app) -> None:
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug.filters):
        werkzeug.addFilter(RedactingFilter())
