"""Sending: SMTP answers sorted into retry-worthy and permanent failures; the file outbox."""
from email import message_from_bytes
from email.policy import default

import pytest

from careplan.mail.backends import OutboxBackend, SendFailure, SMTPBackend
from careplan.mail.message import build


def message(name="Ann Example", subject="Hello"):
    return build(kind="reminder", message_id="<careplan-email-1@localhost>", sender="desk@clinic.example",
                 to_name=name, to_email="ann@mail.example", subject=subject, text="plain", html="<p>html</p>")


def backend(app, smtp):
    return SMTPBackend({**app.config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port})


def failure(app, smtp) -> SendFailure:
    sender = backend(app, smtp)
    with pytest.raises(SendFailure) as caught:
        sender.send(message(), "one")
    sender.close()
    return caught.value


def test_smtp_delivers_with_the_headers(app, smtp):
    sender = backend(app, smtp)
    sender.send(message(), "one")
    sender.send(message(subject="Again"), "two")
    sender.close()
    received = smtp.inbox.messages
    assert [m["Subject"] for m in received] == ["Hello", "Again"]
    assert received[0]["X-Careplan-Kind"] == "reminder"
    assert received[0]["Message-ID"] == "<careplan-email-1@localhost>"


def test_a_550_is_permanent(app, smtp):
    smtp.inbox.answer = "550 5.1.1 mailbox unavailable"
    refused = failure(app, smtp)
    assert refused.permanent and str(refused).startswith("550")


def test_a_451_is_worth_retrying(app, smtp):
    smtp.inbox.answer = "451 4.3.0 try again later"
    assert not failure(app, smtp).permanent


def test_a_server_that_is_down_is_worth_retrying(app, smtp):
    smtp.down()
    refused = failure(app, smtp)
    assert not refused.permanent and "Connection" in str(refused)


def test_the_outbox_keeps_one_file_per_email_even_when_resent(tmp_path):
    outbox = OutboxBackend(tmp_path / "outbox")
    outbox.send(message(), "000000001-reminder")
    outbox.send(message(), "000000001-reminder")
    files = list((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == ["000000001-reminder.eml"]
    assert message_from_bytes(files[0].read_bytes(), policy=default)["Subject"] == "Hello"


def test_line_breaks_in_names_and_subjects_stay_on_one_header_line():
    built = message(name="Eve\r\nBcc: attacker@evil.example", subject="Hi\nX-Injected: yes")
    raw = built.as_bytes()
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert parsed["Subject"] == "Hi X-Injected: yes"


@pytest.fixture
def tls_smtp(app, tmp_path):
    """A loopback SMTP server that requires STARTTLS, with a certificate for 127.0.0.1 from a throw-away CA
    no system trusts; yields (server, the CA's certificate file)."""
    import ssl

    import trustme

    from tests.mail.smtp_server import SMTPServer

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "clinic-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    server = SMTPServer()
    server.up(tls_context=context)
    yield server, ca_file
    server.down()


def tls_backend(app, server, **settings):
    return SMTPBackend({**app.config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port, "MAIL_USE_TLS": True,
                        "MAIL_TIMEOUT_SECONDS": 5, **settings})


def test_starttls_refuses_a_certificate_nobody_vouches_for(app, tls_smtp):
    server, _ = tls_smtp
    sender = tls_backend(app, server)
    with pytest.raises(SendFailure) as caught:
        sender.send(message(), "one")
    sender.close()
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert server.inbox.messages == []


def test_starttls_trusts_the_ca_named_by_mail_ssl_cafile(app, tls_smtp):
    server, ca_file = tls_smtp
    sender = tls_backend(app, server, MAIL_SSL_CAFILE=str(ca_file))
    sender.send(message(), "one")
    sender.close()
    assert [m["Subject"] for m in server.inbox.messages] == ["Hello"]


def test_starttls_checks_the_name_on_the_certificate(app, tls_smtp):
    server, ca_file = tls_smtp
    # The right CA, but the certificate is for 127.0.0.1 and the clinic asked for another name.
    sender = tls_backend(app, server, MAIL_SERVER="localhost", MAIL_SSL_CAFILE=str(ca_file))
    with pytest.raises(SendFailure):
        sender.send(message(), "one")
    sender.close()
    assert server.inbox.messages == []
