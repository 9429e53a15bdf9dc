"""gunicorn's settings: `gunicorn -c config/gunicorn.conf.py wsgi:app` (`make run` does so).

The access log goes through careplan.operations.logs.GunicornLogger (a careplan.access_log.RedactingLogger),
which cuts the tokens of calendar feeds and e-mail links out of paths and referers, and every value out of query
strings, before a line is written; in production it writes gunicorn's own lines as JSON, as the service's.
"""
logger_class = "careplan.operations.logs.GunicornLogger"
accesslog = "-"
# gunicorn's usual line, ending with the request id the service answered (X-Request-ID), which the service's
# own log lines of that request carry too.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'


def on_starting(server):
    """In production, the master refuses to start without what every host must share, naming each variable: a
    worker that refused would only be started again, for ever."""
    import sys

    from careplan import check_environment
    from careplan.operations.settings_check import ConfigurationError

    try:
        check_environment()
    except ConfigurationError as refused:
        sys.exit(str(refused))


def child_exit(server, worker):
    """With PROMETHEUS_MULTIPROC_DIR set, a dead worker's live gauges stop counting (its counters stay summed)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
