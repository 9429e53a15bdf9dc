"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import gc
import sys

from careplan import create_app
from careplan.operations.settings_check import ConfigurationError

try:
    app = create_app()
except ConfigurationError as refused:
    # The message names each missing variable; a traceback would bury it. Exit status 3 is gunicorn's "worker
    # failed to boot", on which its master stops instead of starting the worker again.
    print(refused, file=sys.stderr)
    sys.exit(3)

# Everything built at start-up (the app, SQLAlchemy's and marshmallow's machinery, OR-Tools) lives as long as
# the worker: out of the collector's sight, a full collection no longer walks ~200,000 objects in the middle
# of a request (about 100 ms on the calendar's page every dozen requests; `make bench`).
gc.freeze()
