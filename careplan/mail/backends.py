"""Where e-mails go, through Flask-Mailman's backends: an SMTP server (MAIL_SERVER set), else MAIL_BACKEND:
`file`, one `.eml` file per e-mail under instance/outbox/ (the embedded default), or `locmem`, kept in
memory on the app's `mailman.outbox` (the test settings).

Two things are ours, on top of the library: STARTTLS and SSL check the server's certificate and name (the
library's STARTTLS would encrypt to anyone), and the outbox keeps each e-mail under its own stable name, so
a resend after a crash replaces the file instead of adding a second one.
"""
from __future__ import annotations

import os
import smtplib
import ssl
from pathlib import Path

from flask_mailman import EmailMessage
from flask_mailman.backends.base import BaseEmailBackend
from flask_mailman.backends.locmem import EmailBackend as MemoryBackend
from flask_mailman.backends.smtp import EmailBackend as LibrarySMTPBackend
from flask_mailman.utils import DNS_NAME

BACKENDS = ("smtp", "file", "locmem")


class SendFailure(Exception):
    """Sending did not work; `permanent` when the server refused for good (5xx), else worth retrying."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


def tls_context(cafile: str | None) -> ssl.SSLContext:
    """Checks the server's certificate and name, against the system's CAs or, for a mail server with a
    certificate from the clinic's own CA, against MAIL_SSL_CAFILE. Without it, a machine in the middle
    could read the password and every e-mail."""
    return ssl.create_default_context(cafile=cafile or None)


class VerifiedSMTPBackend(LibrarySMTPBackend):
    """Flask-Mailman's SMTP backend with the certificate checked on STARTTLS as well as on SSL."""

    def __init__(self, *args, ssl_cafile: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ssl_cafile = ssl_cafile

    @property
    def ssl_context(self) -> ssl.SSLContext:
        context = tls_context(self.ssl_cafile)
        if self.ssl_certfile:
            # A client certificate, for servers that ask for one.
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def open(self):
        if self.connection:
            return False
        parameters = {"local_hostname": DNS_NAME.get_fqdn()}
        if self.timeout is not None:
            parameters["timeout"] = self.timeout
        if self.use_ssl:
            parameters["context"] = self.ssl_context
        self.connection = self.connection_class(self.host, self.port, **parameters)
        try:
            if self.use_tls and not self.use_ssl:
                self.connection.starttls(context=self.ssl_context)
            if self.username and self.password:
                self.connection.login(self.username, self.password)
        except BaseException:
            self.connection.close()
            self.connection = None
            raise
        return True


class OutboxBackend(BaseEmailBackend):
    """One `<name>.eml` file per e-mail in `directory`, written whole (a partial file, then renamed)."""

    def __init__(self, *args, file_path: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.directory = Path(file_path)

    def send_messages(self, email_messages) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            path = self.directory / f"{message.outbox_name}.eml"
            partial = path.with_suffix(".eml.partial")
            partial.write_bytes(message.message().as_bytes(linesep="\r\n"))
            os.replace(partial, path)
        return len(email_messages)


class Sender:
    """What the dispatcher sends with: one connection for a batch, opened on the first e-mail and reopened
    after a failure; every failure a `SendFailure`, permanent or worth retrying."""

    def __init__(self, connection: BaseEmailBackend):
        self.connection = connection

    def send(self, message: EmailMessage, name: str) -> None:
        # The outbox names its file by it; the other backends ignore it.
        message.outbox_name = name
        try:
            # Opened here and kept: the library's send_messages closes a connection it opened itself, which
            # made every e-mail of a batch connect, greet and quit again (issue 19: most of a send's time).
            self.connection.open()
            self.connection.send_messages([message])
        except smtplib.SMTPRecipientsRefused as exc:
            self._drop()
            code, reply = next(iter(exc.recipients.values()))
            raise SendFailure(f"{code} {_text(reply)}", permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise SendFailure(f"{exc.smtp_code} {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise SendFailure(f"{type(exc).__name__}: {exc}", permanent=False) from None

    def _drop(self) -> None:
        connection = getattr(self.connection, "connection", None)
        if connection is not None:
            try:
                connection.close()
            finally:
                self.connection.connection = None

    def close(self) -> None:
        try:
            self.connection.close()
        except (smtplib.SMTPException, OSError):
            self._drop()


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def backend_name(config) -> str:
    if config.get("MAIL_SERVER"):
        return "smtp"
    return config.get("MAIL_BACKEND") or "file"


def connection_for(app) -> BaseEmailBackend:
    """A Flask-Mailman connection built from the app's settings as they are now."""
    config = app.config
    name = backend_name(config)
    mailman = app.extensions["mailman"]
    if name == "smtp":
        return VerifiedSMTPBackend(
            mailman=mailman, host=config["MAIL_SERVER"], port=config["MAIL_PORT"],
            username=config.get("MAIL_USERNAME") or "", password=config.get("MAIL_PASSWORD") or "",
            use_tls=bool(config.get("MAIL_USE_TLS")), use_ssl=bool(config.get("MAIL_USE_SSL")),
            timeout=config["MAIL_TIMEOUT_SECONDS"], ssl_cafile=config.get("MAIL_SSL_CAFILE"),
            ssl_certfile=config.get("MAIL_SSL_CERTFILE") or "", ssl_keyfile=config.get("MAIL_SSL_KEYFILE") or "")
    if name == "file":
        return OutboxBackend(mailman=mailman, file_path=str(Path(app.instance_path) / "outbox"))
    if name == "locmem":
        return MemoryBackend(mailman=mailman)
    raise ValueError(f"MAIL_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")


def backend_for(app) -> Sender:
    return Sender(connection_for(app))
