"""Signing in by API token and by browser session; logout, disabling, timeouts, lockout, CSRF."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from careplan.auth.models import ApiToken, User, WebSession
from careplan.db import utcnow
from careplan.extensions import db
from tests import factories

PASSWORD = "correct horse battery"


def _user(app, role="front_desk"):
    with app.app_context():
        user = factories.user(role, password=PASSWORD)
        return user.id, user.email


def _api_login(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def _csrf(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _web_login(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": _csrf(client)})


def _cookie(client):
    cookie = client.get_cookie("careplan_session")
    return cookie.value if cookie else None


def _me(app, cookie_value):
    """/me from a fresh client that carries only this cookie, as a thief replaying it would."""
    other = app.test_client()
    other.set_cookie("careplan_session", cookie_value)
    return other.get("/api/v1/auth/me")


def test_api_login_gives_a_token_that_logout_ends(app, client):
    _, email = _user(app)
    response = _api_login(client, email.upper())
    assert response.status_code == 201
    token = response.get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["email"] == email
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_wrong_password_is_401_and_the_document_marks_login_open(app, client):
    _, email = _user(app)
    assert _api_login(client, email, "wrong password").status_code == 401
    assert _api_login(client, "nobody@clinic.example").status_code == 401
    document = client.get("/api/openapi.json").get_json()
    assert document["paths"]["/api/v1/auth/login"]["post"]["security"] == []


def test_expired_or_tampered_token_is_401(app, client):
    user_id, email = _user(app)
    token = _api_login(client, email).get_json()["token"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.app_context():
        db.session.execute(update(ApiToken).where(ApiToken.user_id == user_id)
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_callers_list_and_revoke_their_own_tokens_only(app, client):
    _, email = _user(app)
    first = _api_login(client, email).get_json()["token"]
    second = _api_login(client, email).get_json()["token"]
    headers = {"Authorization": f"Bearer {first}"}
    tokens = client.get("/api/v1/auth/tokens", headers=headers).get_json()
    assert len(tokens) == 2 and "token" not in tokens[0] and "token_hash" not in tokens[0]
    newest = tokens[0]["id"]
    assert client.delete(f"/api/v1/auth/tokens/{newest}", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    _, other_email = _user(app)
    other = _api_login(client, other_email).get_json()["token"]
    assert client.delete(f"/api/v1/auth/tokens/{newest - 1}",
                         headers={"Authorization": f"Bearer {other}"}).status_code == 404


def test_repeated_failures_lock_the_account(app, client):
    user_id, email = _user(app)
    for _ in range(app.config["LOGIN_LOCK_AFTER"]):
        assert _api_login(client, email, "wrong password").status_code == 401
    # Even the right password is refused now, with the answer a wrong one gets (see test_sign_in_answers).
    locked = _api_login(client, email)
    assert locked.status_code == 401
    # Alike but for the request id, which every answer has its own of.
    assert {**locked.get_json()["error"], "request_id": ""} == \
        {**_api_login(client, "nobody@clinic.example").get_json()["error"], "request_id": ""}
    with app.app_context():
        locked_until = db.session.get(User, user_id).locked_until
        assert timedelta(0) < locked_until - utcnow() <= timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"])
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(locked_until=utcnow()))
        db.session.commit()
    assert _api_login(client, email).status_code == 201


def test_failed_logins_from_one_address_are_slowed(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    statuses = [_api_login(client, f"nobody{n}@clinic.example").status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert int(_api_login(client, "nobody@clinic.example").headers["Retry-After"]) > 0


def test_web_login_rotates_the_session_and_logout_ends_it(app, client):
    _, email = _user(app)
    client.get("/login")
    before = _cookie(client)
    response = _web_login(client, email)
    assert response.status_code == 302
    first = _cookie(client)
    assert first and first != before
    assert _me(app, first).status_code == 200
    # Signing in again, as someone who planted a session before would hope, gives a new id and ends the old one.
    _web_login(client, email)
    second = _cookie(client)
    assert second != first
    assert _me(app, first).status_code == 401
    assert _me(app, second).status_code == 200
    page = client.get("/signed-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert _me(app, second).status_code == 401


def test_session_cookie_flags(app, client, monkeypatch):
    _, email = _user(app)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    header = _web_login(client, email).headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" in header


def test_a_form_without_its_csrf_token_is_refused(app, client):
    _, email = _user(app)
    client.get("/login")
    refused = client.post("/login", data={"email": email, "password": PASSWORD})
    assert refused.status_code == 400
    assert _cookie(client) is None or _me(app, _cookie(client)).status_code == 401
    _web_login(client, email)
    # A cookie-authenticated API call is a form too: it needs the token in X-CSRFToken.
    assert client.post("/api/v1/auth/logout").status_code == 400
    assert client.get("/api/v1/auth/me").status_code == 200
    token = _csrf(client, "/signed-in")
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": token}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_bearer_calls_need_no_csrf_token(app, client, auth):
    headers = auth("admin")
    response = client.post("/api/v1/patients", headers=headers, json={"name": "Ana Lima", "email": "ana@mail.example"})
    assert response.status_code == 201


def test_idle_and_absolute_timeouts_end_a_session(app, client):
    _, email = _user(app)
    _web_login(client, email)
    cookie = _cookie(client)
    assert _me(app, cookie).status_code == 200
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)
    with app.app_context():
        db.session.execute(update(WebSession).values(last_seen_at=utcnow() - idle))
        db.session.commit()
    assert _me(app, cookie).status_code == 401
    _web_login(client, email)
    cookie = _cookie(client)
    absolute = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"], seconds=1)
    with app.app_context():
        db.session.execute(update(WebSession).where(WebSession.revoked_at.is_(None))
                           .values(created_at=utcnow() - absolute))
        db.session.commit()
    assert _me(app, cookie).status_code == 401


def test_requests_keep_a_session_alive(app, client):
    _, email = _user(app)
    _web_login(client, email)
    with app.app_context():
        db.session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=20)))
        db.session.commit()
    assert client.get("/api/v1/auth/me").status_code == 200
    with app.app_context():
        seen = db.session.scalar(select(WebSession.last_seen_at))
    assert utcnow() - seen < timedelta(minutes=1)


def test_disabling_a_user_ends_their_token_and_session_at_once(app, client, auth):
    user_id, email = _user(app, "provider")
    token = _api_login(client, email).get_json()["token"]
    _web_login(client, email)
    cookie = _cookie(client)
    assert _me(app, cookie).status_code == 200
    admin = auth("admin")
    response = client.patch(f"/api/v1/users/{user_id}", headers=admin, json={"active": False})
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert _me(app, cookie).status_code == 401
    assert _api_login(client, email).status_code == 401
    assert client.patch(f"/api/v1/users/{user_id}", headers=admin, json={"active": True}).status_code == 200
    assert _api_login(client, email).status_code == 201


def test_web_login_form_is_plain_and_labelled(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label for="email">' in page and '<label for="password">' in page
    assert 'autocomplete="current-password"' in page


def test_wrong_web_login_shows_the_form_again(app, client):
    _, email = _user(app)
    response = client.post("/login", data={"email": email, "password": "nope", "csrf_token": _csrf(client)})
    assert response.status_code == 401
    assert 'role="alert"' in response.get_data(as_text=True)
