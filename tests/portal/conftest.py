from tests.mail.conftest import smtp  # noqa: F401  (the loopback SMTP server fixture)
