"""The Flask extensions, created unbound here and bound to an app in `create_app`."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from careplan.db import Base
from careplan.errors import ErrorSchema


class CareplanApi(Api):
    """flask-smorest, documenting the service's one error format instead of its own."""

    ERROR_SCHEMA = ErrorSchema


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = CareplanApi()
# Storage comes from RATELIMIT_STORAGE_URI: memory in one process, a shared store (redis) when several run.
limiter = Limiter(key_func=get_remote_address)
# Checked by careplan.auth.web for cookie-authenticated requests only; bearer-token calls carry no ambient credential.
csrf = CSRFProtect()
