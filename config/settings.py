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
    # STARTTLS on MAIL_PORT (587), or MAIL_USE_SSL for TLS from the first byte (465); either checks the
    # server's certificate and name.
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    # A PEM file of CAs to trust for the mail server's STARTTLS certificate instead of the system's.
    MAIL_SSL_CAFILE = None
    MAIL_DEFAULT_SENDER = "careplan@localhost"
    # Without MAIL_SERVER: "file" writes each e-mail to instance/outbox/<name>.eml, "locmem" keeps them in
    # memory (app.extensions["mailman"].outbox), for tests. With MAIL_SERVER set, e-mails go by SMTP.
    MAIL_BACKEND = "file"

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
    # Webhook deliveries: claimed per batch, the claim's lease (longer than a batch of timeouts), each POST's
    # timeout, and the retries of anything but a 2xx (doubling from WEBHOOK_RETRY_SECONDS, at most the max).
    WEBHOOK_BATCH_SIZE = 20
    WEBHOOK_LEASE_SECONDS = 300
    WEBHOOK_TIMEOUT_SECONDS = 10
    WEBHOOK_MAX_ATTEMPTS = 8
    WEBHOOK_RETRY_SECONDS = 30
    WEBHOOK_RETRY_MAX_SECONDS = 3600
    # Confirm and cancel links in e-mails stop working after this long (covers the 48 h reminder).
    EMAIL_LINK_MAX_AGE_HOURS = 72
    # Where the links in e-mails point: the address patients reach the service at.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"

    # API tokens live this long unless created with another lifetime.
    API_TOKEN_DAYS = 90

    # The most seconds a proposal's optimizer search may take, whatever is asked (the API allows up to 20).
    PROPOSAL_MAX_SECONDS = 20.0
    # A batch intake's search (many plans at once) may take up to this many seconds (the API allows 120).
    BATCH_MAX_SECONDS = 120.0
    # Solve jobs (careplan.jobs): a worker's claim on a running job lasts this long and is renewed twice a
    # second while it solves, so a killed worker's job is taken up by another this long after it died.
    JOB_LEASE_SECONDS = 15
    # A job whose worker died this many times is failed rather than taken up again.
    JOB_MAX_ATTEMPTS = 3
    # Solves one process (a worker, or the in-process runner of `make run`) runs at once, and how often an
    # idle one looks for a queued job.
    JOBS_PER_PROCESS = 2
    JOB_POLL_SECONDS = 0.5
    # The solves' nice value (Unix; 0..19, 0 leaves it): set in each solve's child process (CP-SAT's threads
    # inherit it), so that requests served on the same host, and the jobs' own database work in the serving
    # process, come first. Without JOB_SOLVE_IN_CHILD it is the solving thread's, its transactions included.
    JOB_NICE = 19
    # Each solving thread solves in a child process of its own (kept between jobs), so the optimizer's
    # Python work never holds the interpreter of a process that also serves requests.
    JOB_SOLVE_IN_CHILD = True
    # CP-SAT search threads of one process's solves together (a worker's, or `make run`'s), shared evenly by
    # its JOBS_PER_PROCESS solves, at least one each. None: the machine's cores (os.cpu_count()). A search
    # otherwise runs a portfolio of 4 to 8 threads: four solves on two cores would be 16 to 32 threads. With
    # several worker processes on one host, give each its share of the cores.
    JOB_SOLVER_THREADS = None

    JSON_SORT_KEYS = False

    # The service's log on stderr: "text" lines for people, "json" lines for a log shipper.
    LOG_TO_STDERR = True
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"
    # A scraper's secret for /metrics (Authorization: Bearer ...); an admin's token works too.
    METRICS_TOKEN = None
    # The largest request body (bytes) and the deepest JSON nesting any request may carry (careplan.limits):
    # the biggest real body, a protocol template, is a few kilobytes and six levels deep.
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    MAX_JSON_DEPTH = 32

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
    # New passwords need at least this zxcvbn score (0-4; 3 = "safely unguessable" to an online attacker).
    PASSWORD_MIN_SCORE = 3


class Development(Default):
    SCHEDULER_IN_PROCESS = True
    # Without PUBLIC_BASE_URL, links in e-mails point to http://127.0.0.1:$PORT, where `make run` serves.
    PUBLIC_BASE_URL_FOLLOWS_PORT = True
    # `make run` serves plain http on localhost, where a Secure cookie would never come back.
    SESSION_COOKIE_SECURE = False


class Testing(Default):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SESSION_COOKIE_SECURE = False
    # Cheap hashes keep the suite fast; production keeps the defaults.
    PASSWORD_HASHING = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    # pytest captures logs itself; tests of the log build their own app with it on.
    LOG_TO_STDERR = False
    # Solver searches stay short in tests (they ask for deterministic mode when they check a schedule).
    PROPOSAL_MAX_SECONDS = 2.0
    # E-mails stay in memory unless a test sets MAIL_SERVER (its loopback SMTP server) or the file outbox.
    MAIL_BACKEND = "locmem"
    BATCH_MAX_SECONDS = 3.0


class Production(Default):
    LOG_FORMAT = "json"
    # Where patients reach the service: every host must say the same, and no default would be it.
    PUBLIC_BASE_URL = None


BY_NAME = {
    "development": Development,
    "testing": Testing,
    "production": Production,
}
