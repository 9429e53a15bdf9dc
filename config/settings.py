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
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"

    # The reminder scheduler runs inside the web process in the embedded default only.
    SCHEDULER_IN_PROCESS = False

    # API tokens live this long unless created with another lifetime.
    API_TOKEN_DAYS = 90

    JSON_SORT_KEYS = False

    # Web sessions: the cookie only travels over HTTPS unless SESSION_COOKIE_SECURE=0 (plain-http development).
    SESSION_COOKIE_NAME = "careplan_session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # A web session ends after this long without a request, and after this long whatever happens.
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    # CSRF is checked by careplan.auth.web for cookie-authenticated requests, not for every view.
    WTF_CSRF_CHECK_DEFAULT = False

    # Failed sign-ins: each address is slowed by the rate limit, each account is locked for a while.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute;100 per hour"
    LOGIN_LOCK_AFTER = 5
    LOGIN_LOCK_MINUTES = 15
    # argon2id parameters for new password hashes (argon2-cffi's defaults: RFC 9106 low-memory profile).
    PASSWORD_HASHING: dict = {}


class Development(Default):
    SCHEDULER_IN_PROCESS = True
    # `make run` serves plain http on localhost, where a Secure cookie would never come back.
    SESSION_COOKIE_SECURE = False


class Testing(Default):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SESSION_COOKIE_SECURE = False
    # Cheap hashes keep the suite fast; production keeps the defaults.
    PASSWORD_HASHING = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


class Production(Default):
    pass


BY_NAME = {
    "development": Development,
    "testing": Testing,
    "production": Production,
}
