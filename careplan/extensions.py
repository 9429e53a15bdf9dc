"""The Flask extensions, created unbound here and bound to an app in `create_app`."""
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
# Web forms ride on the session cookie; the JSON API blueprints (bearer tokens) are exempted at registration.
csrf = CSRFProtect()
