"""What a production deployment must be given rather than make up on its own.

Several web and worker processes on several hosts serve one clinic. A setting each process would otherwise
invent for itself breaks across them: a SECRET_KEY generated per host signs sessions and e-mail links that the
next host refuses; an in-memory rate limit counts each process's sign-ins apart, so the limit multiplies
with the processes; e-mails written to a host's own outbox directory never leave it. In production the
service refuses to start without them, naming each variable, instead of starting and failing later.
"""
from __future__ import annotations


class ConfigurationError(RuntimeError):
    """Raised by create_app in production when a setting several hosts must share is missing."""


def production_problems(config) -> list[str]:
    """Each missing or unfit setting, as a sentence that names its environment variable."""
    problems = []
    if not config.get("SECRET_KEY"):
        problems.append("SECRET_KEY is not set: every host would sign sessions and e-mail links with a key "
                        "of its own (set the same long random value on every host)")
    if (config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://"):
        problems.append("RATELIMIT_STORAGE_URI is memory://: each process would count sign-in attempts apart "
                        "(set a shared store, e.g. redis://redis.internal:6379/0)")
    if not config.get("MAIL_SERVER"):
        problems.append("MAIL_SERVER is not set: e-mails would be written to this host's outbox directory "
                        "instead of being sent (set the SMTP server)")
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        problems.append("MAIL_USE_TLS and MAIL_USE_SSL are both set: use STARTTLS (MAIL_USE_TLS, port 587) "
                        "or TLS from the start (MAIL_USE_SSL, port 465), not both")
    return problems


def check_production(config) -> None:
    problems = production_problems(config)
    if problems:
        raise ConfigurationError("careplan refuses to start in production:\n  - " + "\n  - ".join(problems))
