"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import sys

from careplan import create_app
from careplan.operations.settings_check import ConfigurationError

try:
    app = create_app()
except ConfigurationError as refused:
    # The message names each missing variable; a traceback would bury it.
    sys.exit(str(refused))
