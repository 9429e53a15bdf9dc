"""The request edge: who is calling this request (its bearer token, else its session cookie), signing a
browser in and out, and the `Caller` handed to the services. Routes, web pages and this module read Flask's
`request`, `session` and `g`; the services take what they need as arguments.

It also settles the audit trail at the end of each request: a request that answers successfully commits
its transaction (its audit rows with it); one that answers an error is rolled back, and its reads and
refusals are written again on their own (careplan.audit.service.write_kept).
"""
from __future__ import annotations

from flask import Flask, g, has_request_context, request, session

from careplan.access_log import redact
from careplan.audit import service as audit
from careplan.auth import service
from careplan.auth.models import User
from careplan.caller import Caller
from careplan.errors import MACHINE_PATHS
from careplan.extensions import db


def current_user() -> User | None:
    """The user of this request, from its bearer token or else its session cookie; cached on `g`.
    A request that sends a bearer header is judged by it alone, never by a cookie it also carries."""
    if "user" in g:
        return g.user
    user = None
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if header:
        if scheme.lower() == "bearer" and value.strip():
            token = service.live_token(value.strip())
            if token is not None:
                g.api_token = token
                user = token.user
    elif session.get("sid"):
        web_session = service.live_web_session(session["sid"])
        if web_session is not None:
            user = web_session.user
    g.user = user
    return user


def request_caller() -> Caller:
    """This request's caller: its user, the client's address and whether it came through the API or a page."""
    if "caller" not in g:
        origin = "api" if request.path.startswith(MACHINE_PATHS) else "web"
        g.caller = Caller(current_user(), (request.remote_addr or "")[:64], origin)
    return g.caller


def _signed_in_as(user: User | None) -> None:
    g.user = user
    g.pop("caller", None)


def login_user(user: User) -> None:
    """Start a browser session for this user with a new id, ending the one the cookie carried before."""
    sid = service.start_web_session(user, replacing=session.get("sid"), remote_addr=request.remote_addr or "")
    session.clear()
    session["sid"] = sid
    session.permanent = True
    _signed_in_as(user)


def logout_user() -> None:
    """End this browser's session on the server and forget the cookie."""
    sid = session.get("sid")
    if sid:
        service.end_web_session(sid)
    session.clear()
    _signed_in_as(None)


def end_current_credential() -> None:
    """Log out whatever authenticated this request: its bearer token, or its browser session."""
    token = g.get("api_token")
    if token is not None:
        service.revoke_token(token)
    else:
        logout_user()


def request_line() -> str:
    return f"{request.method} {redact(request.path)}" if has_request_context() else ""


def _finish_request(response):
    """Commit a successful request; roll a failed one back and keep its reads and refusals on their own."""
    if response.status_code < 400:
        db.session.commit()
        return response
    db.session.rollback()
    audit.write_kept(status=response.status_code, request_line=request_line())
    return response


def register(app: Flask) -> None:
    app.after_request(_finish_request)
