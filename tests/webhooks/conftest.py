import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver(app, monkeypatch):
    """A receiving system on loopback that verifies every delivery's signature; stopped afterwards."""
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 5)
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def registered(client, auth, receiver):
    """register(events) -> the endpoint the admin registered for the receiver (its secret given to it)."""

    def register(*events: str) -> dict:
        answer = client.post("/api/v1/webhooks", headers=auth("admin"),
                             json={"url": receiver.url, "events": list(events)})
        assert answer.status_code == 201, answer.text
        endpoint = answer.get_json()
        receiver.secret = endpoint["secret"]
        return endpoint

    return register
