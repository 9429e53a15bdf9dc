import pytest

from tests.mail.smtp_server import SMTPServer


@pytest.fixture
def smtp(app, monkeypatch):
    """A loopback SMTP server the app sends to for this test; stopped afterwards."""
    server = SMTPServer()
    server.up()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 5)
    yield server
    server.down()
