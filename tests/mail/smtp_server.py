"""A real SMTP server on loopback (aiosmtpd) that can be told to refuse (4xx, 5xx) or to be down."""
from __future__ import annotations

import errno
import socket
import threading
import time
from email import message_from_bytes
from email.policy import default

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """The aiosmtpd handler: keeps what it accepts; `answer` (e.g. "550 ...") refuses every message."""

    def __init__(self):
        self.messages = []
        self.envelopes = []
        # The client's (address, port) of each message: one per connection it came on.
        self.peers = []
        self.answer: str | None = None
        self.delay = 0.0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.answer:
            return self.answer
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.envelopes.append(list(envelope.rcpt_tos))
            self.peers.append(session.peer)
            self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


class SMTPServer:
    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def up(self, tls_context=None, *, implicit=False) -> None:
        """tls_context: offer STARTTLS with this server context, and accept mail only after it; with
        `implicit`, speak TLS from the first byte instead (SMTPS, port 465's way)."""
        if tls_context is None:
            tls = {}
        elif implicit:
            tls = {"ssl_context": tls_context}
        else:
            tls = {"tls_context": tls_context, "require_starttls": True}
        # The free port was found by binding and letting go of it: another process (the other backend's suite
        # beside this one) may take it before the server binds it, so a taken port is traded for another.
        for attempt in range(5):
            self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **tls)
            try:
                self.controller.start()
                return
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or attempt == 4:
                    raise
                self.port = free_port()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
