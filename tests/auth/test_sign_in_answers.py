"""A refused sign-in does not tell whether the account exists, is disabled or is locked: the same status, body
and headers, and a password hash computed on every path (so no path answers measurably sooner). One
failure limit per address covers the web form and the API together."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from careplan.auth.models import User
from careplan.db import utcnow
from careplan.extensions import db, limiter
from tests import factories

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(app):
    """E-mail and password of each way a sign-in is refused."""
    with app.app_context():
        known = factories.user("front_desk", password=PASSWORD)
        disabled = factories.user("front_desk", password=PASSWORD)
        locked = factories.user("front_desk", password=PASSWORD)
        db.session.execute(update(User).where(User.id == disabled.id).values(active=False))
        db.session.execute(update(User).where(User.id == locked.id)
                           .values(locked_until=utcnow() + timedelta(minutes=10)))
        db.session.commit()
        return {"wrong password": (known.email, "not the password"),
                "no such account": ("nobody@clinic.example", PASSWORD),
                "disabled": (disabled.email, PASSWORD),
                "locked": (locked.email, PASSWORD)}


@pytest.fixture
def verifications(monkeypatch):
    """How many password hashes each sign-in computed."""
    calls = []
    real = PasswordHasher.verify

    def counted(self, hash, password):
        calls.append(hash)
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return calls


def _answer(response, body):
    # The request id differs by design on every answer (careplan.operations.logs), whatever happened; the rate
    # limit's reset is a clock time, which moves on when the cases straddle a second.
    headers = {name: value for name, value in response.headers.items()
               if name not in ("Content-Length", "Set-Cookie", "Date", "X-Request-ID", "X-RateLimit-Reset")}
    if isinstance(body, dict):
        body = {**body, "error": {k: v for k, v in body["error"].items() if k != "request_id"}}
    return response.status_code, body, headers


def test_the_api_answers_every_refused_sign_in_alike(app, accounts, verifications):
    answers = {}
    for case, (email, password) in accounts.items():
        limiter.reset()
        verifications.clear()
        response = app.test_client().post("/api/v1/auth/login", json={"email": email, "password": password})
        answers[case] = _answer(response, response.get_json())
        assert len(verifications) == 1, case
    assert answers["wrong password"][0] == 401
    for case, answer in answers.items():
        assert answer == answers["wrong password"], case


def test_the_web_form_answers_every_refused_sign_in_alike(app, accounts, verifications):
    answers = {}
    for case, (email, password) in accounts.items():
        limiter.reset()
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        verifications.clear()
        response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
        # The form's token is signed with the time, so the refused page may carry a newer one than the GET did.
        page = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value="TOKEN"',
                      response.text).replace(email, "EMAIL")
        answers[case] = _answer(response, page)
        assert len(verifications) == 1, case
    assert answers["wrong password"][0] == 401
    for case, answer in answers.items():
        assert answer == answers["wrong password"], case


def test_one_failure_limit_covers_the_web_form_and_the_api(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    wrong = {"email": "nobody@clinic.example", "password": "not the password"}
    assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={**wrong, "csrf_token": token}).status_code == 401
    assert client.post("/login", data={**wrong, "csrf_token": token}).status_code == 429
    assert client.post("/api/v1/auth/login", json=wrong).status_code == 429
