"""Sending through Flask-Mailman: SMTP answers sorted into retry-worthy and permanent failures, certificates
checked on STARTTLS and SSL, the file outbox, the in-memory backend of the tests."""
from email import message_from_bytes
from email.policy import default

import pytest

from careplan.mail.backends import OutboxBackend, SendFailure, VerifiedSMTPBackend, backend_for
from careplan.mail.message import build


def message(name="Ann Example", subject="Hello"):
    return build(kind="reminder", message_id="<careplan-email-1@localhost>", sender="desk@clinic.example",
                 to_name=name, to_email="ann@mail.example", subject=subject, text="plain", html="<p>html</p>")


def failure(app) -> SendFailure:
    sender = backend_for(app)
    with pytest.raises(SendFailure) as caught:
        sender.send(message(), "one")
    sender.close()
    return caught.value


def test_smtp_delivers_with_the_headers(app, ctx, smtp):
    sender = backend_for(app)
    assert isinstance(sender.connection, VerifiedSMTPBackend)
    sender.send(message(), "one")
    sender.send(message(subject="Again"), "two")
    sender.close()
    received = smtp.inbox.messages
    assert [m["Subject"] for m in received] == ["Hello", "Again"]
    assert received[0]["X-Careplan-Kind"] == "reminder"
    assert received[0]["Message-ID"] == "<careplan-email-1@localhost>"
    assert received[0]["To"].addresses[0].display_name == "Ann Example"
    assert smtp.inbox.envelopes[0] == ["ann@mail.example"]
    assert [part.get_content_type() for part in received[0].walk()] == [
        "multipart/alternative", "text/plain", "text/html"]


def test_a_batch_goes_through_one_connection(app, ctx, smtp):
    """Flask-Mailman closes a connection its send_messages opened: the sender keeps its own open instead."""
    sender = backend_for(app)
    for n in range(3):
        sender.send(message(subject=f"Number {n}"), f"n{n}")
    sender.close()
    assert len(smtp.inbox.messages) == 3
    assert len(set(smtp.inbox.peers)) == 1
    assert sender.connection.connection is None, "closed at the end of the batch"


def test_the_calendar_part_keeps_its_method_and_file_name(app, ctx, smtp):
    with_calendar = build(kind="reminder", message_id="<careplan-email-2@localhost>", sender="desk@clinic.example",
                          to_name="Ann", to_email="ann@mail.example", subject="Soon", text="plain",
                          html="<p>html</p>", calendar="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                          calendar_method="REQUEST")
    sender = backend_for(app)
    sender.send(with_calendar, "two")
    sender.close()
    part = next(p for p in smtp.inbox.messages[0].walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == "REQUEST" and part.get_filename() == "appointment.ics"
    assert "BEGIN:VCALENDAR" in part.get_content()


def test_a_550_is_permanent(app, ctx, smtp):
    smtp.inbox.answer = "550 5.1.1 mailbox unavailable"
    refused = failure(app)
    assert refused.permanent and str(refused).startswith("550")


def test_a_451_is_worth_retrying(app, ctx, smtp):
    smtp.inbox.answer = "451 4.3.0 try again later"
    assert not failure(app).permanent


def test_a_server_that_is_down_is_worth_retrying(app, ctx, smtp):
    smtp.down()
    refused = failure(app)
    assert not refused.permanent and "Connection" in str(refused)


def test_after_a_failure_the_next_email_opens_a_new_connection(app, ctx, smtp):
    sender = backend_for(app)
    smtp.inbox.answer = "451 4.3.0 try again later"
    with pytest.raises(SendFailure):
        sender.send(message(), "one")
    smtp.inbox.answer = None
    sender.send(message(subject="Second"), "two")
    sender.close()
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Second"]


def test_the_outbox_keeps_one_file_per_email_even_when_resent(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    sender = backend_for(app)
    assert isinstance(sender.connection, OutboxBackend)
    sender.send(message(), "mail-test-resent")
    sender.send(message(), "mail-test-resent")
    sender.close()
    outbox = sender.connection.directory
    files = list(outbox.glob("mail-test-*"))
    assert [f.name for f in files] == ["mail-test-resent.eml"]
    assert message_from_bytes(files[0].read_bytes(), policy=default)["Subject"] == "Hello"


def test_the_test_settings_keep_emails_in_memory(app, ctx):
    sender = backend_for(app)
    kept = app.extensions["mailman"].outbox
    kept.clear()
    sender.send(message(subject="Kept"), "one")
    sender.close()
    assert [m.subject for m in kept] == ["Kept"]
    assert kept[0].extra_headers["X-Careplan-Kind"] == "reminder"


def test_an_unknown_backend_is_named(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "carrier-pigeon")
    with pytest.raises(ValueError, match="MAIL_BACKEND must be one of smtp, file, locmem"):
        backend_for(app)


def test_line_breaks_in_names_and_subjects_stay_on_one_header_line(app, ctx):
    built = message(name="Eve\r\nBcc: attacker@evil.example", subject="Hi\nX-Injected: yes")
    raw = built.message().as_bytes()
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert parsed["Subject"] == "Hi X-Injected: yes"
    assert built.recipients() == ['"Eve Bcc: attacker@evil.example" <ann@mail.example>']


@pytest.fixture
def authority(tmp_path):
    """A throw-away CA no system trusts, a server context with its certificate for 127.0.0.1, and the CA's
    certificate file."""
    import ssl

    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "clinic-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


@pytest.fixture(params=["starttls", "ssl"])
def tls_smtp(request, app, authority, monkeypatch):
    """A loopback SMTP server that requires STARTTLS, or speaks TLS from the start; the app set to match."""
    from tests.mail.smtp_server import SMTPServer

    context, ca_file = authority
    server = SMTPServer()
    server.up(tls_context=context, implicit=request.param == "ssl")
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port, "MAIL_TIMEOUT_SECONDS": 5,
                       "MAIL_USE_TLS": request.param == "starttls", "MAIL_USE_SSL": request.param == "ssl"}.items():
        monkeypatch.setitem(app.config, key, value)
    yield server, ca_file
    server.down()


def test_tls_refuses_a_certificate_nobody_vouches_for(app, ctx, tls_smtp):
    server, _ = tls_smtp
    refused = failure(app)
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused) and not refused.permanent
    assert server.inbox.messages == []


def test_tls_trusts_the_ca_named_by_mail_ssl_cafile(app, ctx, tls_smtp, monkeypatch):
    server, ca_file = tls_smtp
    monkeypatch.setitem(app.config, "MAIL_SSL_CAFILE", str(ca_file))
    sender = backend_for(app)
    sender.send(message(), "one")
    sender.close()
    assert [m["Subject"] for m in server.inbox.messages] == ["Hello"]


def test_tls_checks_the_name_on_the_certificate(app, ctx, tls_smtp, monkeypatch):
    server, ca_file = tls_smtp
    # The right CA, but the certificate is for 127.0.0.1 and the clinic asked for another name.
    monkeypatch.setitem(app.config, "MAIL_SERVER", "localhost")
    monkeypatch.setitem(app.config, "MAIL_SSL_CAFILE", str(ca_file))
    assert "CERTIFICATE_VERIFY_FAILED" in str(failure(app))
    assert server.inbox.messages == []


def test_a_french_subject_reads_without_a_leading_space(app):
    """A non-ASCII subject is encoded knowing its header's name, so it starts on the Subject line."""
    import email
    import email.policy

    from careplan.mail.message import build

    subject = "Rappel : mardi 8 décembre 2026 à 10:00 (EST) à Clinique du Parc, salle 2"
    with app.app_context():
        message = build(kind="reminder", message_id="<1@clinic.test>", sender="clinic@clinic.test", to_name="Zoé",
                        to_email="zoe@example.test", subject=subject, text="Bonjour", html="<p>Bonjour</p>")
        raw = message.message().as_bytes()
    assert raw.split(b"Subject:", 1)[1].startswith(b" =?utf-8?")
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == subject
    assert message.subject == subject
