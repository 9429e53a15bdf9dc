"""The service's own log: JSON lines in production (for a log shipper), readable lines in development, a
request id on every line of a request, and no secrets.

Each request carries an id: the client's own `X-Request-ID` when it sent a sane one (so a line here can be
matched with the caller's), else a fresh one. It goes back in the `X-Request-ID` header, into every error
body (`error.request_id`) and onto every log line written while the request runs, so a front desk's
"it said something went wrong" can be found in the log by the id on the error.

Every line is redacted as it is written (careplan.access_log.redact): calendar-feed and e-mail-link tokens,
and every query-string value (patients' names searched for), are cut from messages, arguments and
tracebacks alike. Passwords and bearer tokens are never put into a log line in the first place.
"""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from careplan.access_log import RedactingLogger, redact

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept when it is short and plain; anything else (a log-injection attempt, a huge value)
# is replaced by one of ours.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
NO_REQUEST = "-"

log = logging.getLogger("careplan.requests")


def current_request_id() -> str | None:
    """The id of the request under way (made now if the request failed before it got one); None outside one."""
    if not has_request_context():
        return None
    if not g.get("request_id"):
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = offered if _SANE_ID.match(offered) else uuid.uuid4().hex
    return g.request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or NO_REQUEST
        return True


class _Redacting:
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingJsonFormatter(_Redacting, JsonFormatter):
    pass


class RedactingTextFormatter(_Redacting, logging.Formatter):
    pass


TEXT_FORMAT = "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


def formatter_for(kind: str) -> logging.Formatter:
    if kind == "json":
        return RedactingJsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level",
                                                                  "name": "logger"})
    return RedactingTextFormatter(TEXT_FORMAT)


class GunicornLogger(RedactingLogger):
    """gunicorn's logger (config/gunicorn.conf.py): the access log redacted, and gunicorn's own lines (starting,
    workers booting and exiting) written as the service's are: one JSON object a line in production, so that its
    stderr is one format for a log shipper."""

    def setup(self, cfg):
        super().setup(cfg)
        from careplan import environment_settings

        kind = environment_settings()["LOG_FORMAT"]
        if kind == "json":
            for handler in self.error_log.handlers:
                handler.setFormatter(formatter_for(kind))
                handler.addFilter(RequestIdFilter())


class ServiceLogHandler(logging.StreamHandler):
    """The one handler the service puts on the root logger (replaced, not added again, by each create_app)."""


def configure(app: Flask) -> ServiceLogHandler | None:
    if not app.config["LOG_TO_STDERR"]:
        return None
    handler = ServiceLogHandler(sys.stderr)
    handler.setFormatter(formatter_for(app.config["LOG_FORMAT"]))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, ServiceLogHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    level = logging.getLevelName(app.config["LOG_LEVEL"].upper())
    # Records propagate to the root's handler whatever the root's own level; other libraries keep theirs.
    logging.getLogger("careplan").setLevel(level)
    # APScheduler says at INFO that each 30-second job ran and ended: four lines a minute a process, about
    # 15,000 a day, none of which an operator reads. Its warnings and errors (a missed or failed run) stay.
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
    return handler


def _start() -> None:
    current_request_id()
    g.request_started = time.perf_counter()


def _finish(response):
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    started = g.get("request_started")
    if started is not None:
        seconds = time.perf_counter() - started
        rule = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        # Parameter names stay (useful when reading a log), their values go.
        path = redact(request.full_path.rstrip("?"))
        log.info("%s %s %s %.1f ms", request.method, path, response.status_code, seconds * 1000,
                 extra={"method": request.method, "route": rule, "status": response.status_code,
                        "duration_ms": round(seconds * 1000, 1)})
    return response


def register(app: Flask) -> None:
    configure(app)
    app.before_request(_start)
    app.after_request(_finish)
