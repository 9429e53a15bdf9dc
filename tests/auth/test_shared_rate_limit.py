"""Login rate limits shared across processes: with RATELIMIT_STORAGE_URI pointing at Redis, refused sign-ins
counted by one process slow down the next process too.

The test runs its own throw-away redis-server on a free port of 127.0.0.1 (no data kept on disk), so it
neither needs nor touches a Redis the machine may run for other purposes.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time

import pytest
import redis

from careplan import REPOSITORY

# One process of the clinic: a fresh app on the given store and database, `attempts` refused sign-ins from
# the same address, the statuses printed as JSON.
ONE_PROCESS = """
import json, sys
from careplan import create_app
from careplan.extensions import db
import careplan.models  # noqa: F401  (every table, for create_all)

storage, database, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = create_app("testing", {"RATELIMIT_STORAGE_URI": storage, "SQLALCHEMY_DATABASE_URI": database,
                             "LOGIN_RATE_LIMIT": "3 per minute"}, instance_path=sys.argv[4])
with app.app_context():
    db.create_all()
client = app.test_client()
print(json.dumps([client.post("/api/v1/auth/login", json={"email": "nobody@clinic.example",
                                                          "password": "wrong"}).status_code
                  for _ in range(attempts)]))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_url():
    server = shutil.which("redis-server")
    assert server, "redis-server is needed for this test (apt-get install redis-server)"
    port = _free_port()
    process = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _process(storage: str, tmp_path, attempts: int) -> list[int]:
    done = subprocess.run([sys.executable, "-c", ONE_PROCESS, storage, f"sqlite:///{tmp_path / 'clinic.db'}",
                           str(attempts), str(tmp_path / "instance")],
                          cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_processes_share_the_login_limit_through_redis(redis_url, tmp_path):
    assert _process(redis_url, tmp_path, 3) == [401, 401, 401]
    # The count lives in Redis, not in the process that made it...
    assert redis.Redis.from_url(redis_url).keys("LIMITS*")
    # ...so a fresh process, whose own memory knows nothing, refuses the same address at once.
    assert _process(redis_url, tmp_path, 1) == [429]
