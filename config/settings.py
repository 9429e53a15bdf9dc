"""Settings per environment.

Each class is a plain bag of defaults. `careplan.create_app` picks one by
name (`CAREPLAN_ENV`, default ``development``), then overrides it from the
environment variables of the service contract, so nothing here is read at
import time from the environment.
"""


class Default:
    # Filled in by create_app: a SQLite file under instance/ unless DATABASE_URL says otherwise.
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SECRET_KEY = None

    CLINIC_TIMEZONE = "America/Toronto"
    REMINDER_OFFSETS_HOURS = "48,2"

    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "careplan@localhost"

    # OpenAPI (flask-smorest)
    API_TITLE = "careplan"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = "/api/docs/static/"

    # The reminder scheduler runs inside the web process in the embedded default only.
    SCHEDULER_IN_PROCESS = False

    # API tokens live this long unless created with another lifetime.
    API_TOKEN_DAYS = 90

    JSON_SORT_KEYS = False


class Development(Default):
    SCHEDULER_IN_PROCESS = True


class Testing(Default):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"


class Production(Default):
    pass


BY_NAME = {
    "development": Development,
    "testing": Testing,
    "production": Production,
}
