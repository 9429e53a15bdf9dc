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
    SCHEDULER_INTERVAL_SECONDS = 30

    # Dispatch: e-mails claimed per batch, and how long a claim holds before another worker may take it over
    # (longer than a batch can take to send, so a live worker never loses its claim).
    REMINDER_BATCH_SIZE = 50
    REMINDER_LEASE_SECONDS = 300
    # Retries: a transient failure (4xx, no connection) is retried up to MAIL_MAX_ATTEMPTS times, a permanent
    # one (5xx) up to MAIL_PERMANENT_ATTEMPTS, waiting MAIL_RETRY_SECONDS doubled each time, at most
    # MAIL_RETRY_MAX_SECONDS; then the e-mail is marked failed for the front desk.
    MAIL_MAX_ATTEMPTS = 6
    MAIL_PERMANENT_ATTEMPTS = 2
    MAIL_RETRY_SECONDS = 60
    MAIL_RETRY_MAX_SECONDS = 1800
    MAIL_TIMEOUT_SECONDS = 20
    # Confirm and cancel links in e-mails stop working after this long (covers the 48 h reminder).
    EMAIL_LINK_MAX_AGE_HOURS = 72
    # Where the links in e-mails point: the address patients reach the service at.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"

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
