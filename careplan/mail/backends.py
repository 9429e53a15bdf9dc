"""Where e-mails go: an SMTP server, or `.eml` files under instance/outbox/ when MAIL_SERVER is unset."""
from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path


class SendFailure(Exception):
    """Sending did not work; `permanent` when the server refused for good (5xx), else worth retrying."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


class OutboxBackend:
    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, message: EmailMessage, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{name}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(message.as_bytes())
        # The same name for a resend after a crash: the outbox holds each e-mail once.
        os.replace(partial, path)

    def close(self) -> None:
        pass


def tls_context(config: dict) -> ssl.SSLContext:
    """STARTTLS that checks the server's certificate and name, against the system's CAs or, for a mail
    server with a certificate from the clinic's own CA, against MAIL_SSL_CAFILE. smtplib's default would
    encrypt to anyone, so a machine in the middle could read the password and every e-mail."""
    return ssl.create_default_context(cafile=config.get("MAIL_SSL_CAFILE") or None)


class SMTPBackend:
    """One connection per batch, opened on the first e-mail and reopened after a failure."""

    def __init__(self, config: dict):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT_SECONDS"])
        if config["MAIL_USE_TLS"]:
            connection.starttls(context=tls_context(config))
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        return connection

    def send(self, message: EmailMessage, name: str) -> None:
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.send_message(message)
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
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def backend_for(app) -> OutboxBackend | SMTPBackend:
    if app.config.get("MAIL_SERVER"):
        return SMTPBackend(app.config)
    return OutboxBackend(Path(app.instance_path) / "outbox")
