"""Sign-in for the web pages: a plain form at /login and /logout on top of the session service, and the
CSRF rule: every state-changing request that rides on the session cookie must carry the form's (or the
X-CSRFToken header's) token; bearer-token API calls carry no ambient credential and are not checked."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, redirect, render_template, request, url_for

from careplan.auth import edge, service
from careplan.errors import ServiceError
from careplan.extensions import csrf, db, limiter
from careplan.page_query import local_path, takes_query

bp = Blueprint("auth_web", __name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def login_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


def failed(response) -> bool:
    """Only refused sign-ins use up the rate limit: a clinic's staff share one address and sign in often."""
    return response.status_code in (401, 429)


# One count of refused sign-ins per address for the form and the API together, so that an attacker cannot
# double their guesses by alternating between the two.
login_failures = limiter.shared_limit(login_limit, scope="login", methods=["POST"], deduct_when=failed)


@bp.route("/login", methods=["GET", "POST"])
@takes_query("next")
@login_failures
def login():
    error = None
    status = 200
    email = request.form.get("email", "")
    if request.method == "POST":
        try:
            user = service.authenticate(email, request.form.get("password", ""), caller=edge.request_caller())
        except ServiceError as exc:
            db.session.rollback()
            error, status = exc.message, exc.status
            headers = getattr(exc, "headers", None) or []
            return render_template("auth/login.html", error=error, email=email,
                                   next=request.form.get("next", "")), status, headers
        edge.login_user(user)
        # Only a path on this site; else each role's start page (the web pages' home sends it on).
        return redirect(local_path(request.form.get("next"), "/"))
    return render_template("auth/login.html", error=error, email=email, next=request.args.get("next", "")), status


@bp.route("/logout", methods=["POST"])
def logout():
    edge.logout_user()
    return redirect(url_for("auth_web.login"))


@bp.route("/signed-in")
def signed_in():
    user = edge.current_user()
    if user is None:
        return redirect(url_for("auth_web.login", next=request.path))
    return render_template("auth/signed_in.html", user=user)


def _protect_cookie_requests():
    if (request.method in SAFE_METHODS or request.headers.get("Authorization")
            or request.routing_exception is not None):
        return
    # Outside the API every form is protected, the login form included (login CSRF); inside it only
    # requests that a live session cookie authenticates (a dead one carries no authority to abuse).
    if not request.path.startswith("/api/") or edge.current_user() is not None:
        csrf.protect()


def register(app: Flask) -> None:
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    app.before_request(_protect_cookie_requests)
    app.register_blueprint(bp)
