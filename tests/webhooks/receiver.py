"""A receiving system on loopback, as an integrator would write it: it checks each delivery's signature with
the endpoint's secret and refuses stale timestamps, as the README tells receivers to."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300


def verify(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs((now or time.time()) - timestamp) <= TOLERANCE_SECONDS
    return fresh and hmac.compare_digest(expected, parts["v1"])


class Receiver:
    def __init__(self):
        self.secret = ""
        self.answer = 200
        self.received: list[dict] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not verify(receiver.secret, self.headers["X-Careplan-Signature"], body):
                    receiver.refused += 1
                    self.send_response(401)
                else:
                    receiver.received.append({"body": json.loads(body), "headers": dict(self.headers)})
                    self.send_response(receiver.answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/careplan-events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def event_ids(self) -> list[str]:
        return [r["body"]["id"] for r in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
