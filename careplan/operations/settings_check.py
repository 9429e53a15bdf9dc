"""What a production deployment must be given rather than make up on its own.

Several web and worker processes on several hosts serve one clinic. A setting each process would otherwise
invent for itself breaks across them: a SECRET_KEY generated per host signs sessions and e-mail links that the
next host refuses; an in-memory rate limit counts each process's sign-ins apart, so the limit multiplies
with the processes; e-mails written to a host's own outbox directory never leave it. In production the
service refuses to start without them, naming each variable, instead of starting and failing later.
"""
from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


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
    address = config.get("PUBLIC_BASE_URL") or ""
    parts = urlsplit(address)
    if not address:
        problems.append("PUBLIC_BASE_URL is not set: links in e-mails (confirm, cancel, move, calendar feeds) "
                        "would point nowhere patients can reach (set the address patients use, e.g. "
                        "https://care.example.org)")
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"PUBLIC_BASE_URL is {address!r}, not an address: set the one patients use, e.g. "
                        "https://care.example.org")
    elif parts.hostname in LOOPBACK:
        problems.append(f"PUBLIC_BASE_URL is {address}: links in e-mails would point at the patient's own "
                        "computer (set the address patients use, e.g. https://care.example.org)")
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        problems.append("MAIL_USE_TLS and MAIL_USE_SSL are both set: use STARTTLS (MAIL_USE_TLS, port 587) "
                        "or TLS from the start (MAIL_USE_SSL, port 465), not both")
    return problems


def check_production(config) -> None:
    problems = production_problems(config)
    if problems:
        raise ConfigurationError("careplan refuses to start in production:\n  - " + "\n  - ".join(problems))
