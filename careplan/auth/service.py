"""Users, password hashes, API tokens and web sessions. Who is calling a request is the request edge's
(careplan.auth.edge); these rules take the caller as an argument."""
from __future__ import annotations

import functools
import hashlib
import secrets
import threading
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from flask import current_app
from sqlalchemy import select, update

from careplan.auth.models import ROLES, ApiToken, User, WebSession
from careplan.caller import Caller
from careplan.db import utcnow
from careplan.errors import Conflict, Invalid, NotFound, Unauthenticated
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.providers.models import Provider
from careplan.records import get_or_404

@functools.cache
def _hasher_with(parameters: tuple) -> PasswordHasher:
    return PasswordHasher(**dict(parameters))


def _hasher() -> PasswordHasher:
    """argon2 with PASSWORD_HASHING's parameters; each hash records its own, so old hashes still verify."""
    return _hasher_with(tuple(sorted(current_app.config["PASSWORD_HASHING"].items())))


@functools.cache
def _hash_to_waste_time_on(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


PASSWORD_MIN_LENGTH = 10
# zxcvbn refuses longer input; a password whose first 72 characters are hard to guess is hard to guess.
_ESTIMATED_LENGTH = 72
# zxcvbn keeps the clues of the current estimate in a module-level dictionary: one estimate at a time.
_ESTIMATING = threading.Lock()


def check_new_password(password: str, *, email: str) -> None:
    """Refuse a password an attacker would try early: too short, common, a keyboard walk, a dictionary word
    with the usual substitutions, or built from the account's own e-mail or the clinic's name."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise Invalid(f"A password needs at least {PASSWORD_MIN_LENGTH} characters.",
                      fields={"password": f"at least {PASSWORD_MIN_LENGTH} characters"})
    local, _, domain = email.partition("@")
    clues = [email, local, *domain.split("."), "careplan", "clinic", "riverside"]
    with _ESTIMATING:
        estimate = zxcvbn(password[:_ESTIMATED_LENGTH], user_inputs=clues)
    if estimate["score"] < current_app.config["PASSWORD_MIN_SCORE"]:
        advice = estimate["feedback"]["warning"] or "This password is easy to guess."
        hint = " ".join(estimate["feedback"]["suggestions"]) or "Use a few uncommon words together."
        raise Invalid(f"{advice} {hint}", fields={"password": "too easy to guess"})


def password_matches(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_links(role: str, provider_id: int | None, patient_id: int | None) -> None:
    if role not in ROLES:
        raise Invalid(f"Role must be one of {', '.join(ROLES)}.", fields={"role": "unknown role"})
    if role == "provider" and (provider_id is None or db.session.get(Provider, provider_id) is None):
        raise Invalid("A provider account must be linked to an existing provider.", fields={"provider_id": "required"})
    if role == "patient" and (patient_id is None or db.session.get(Patient, patient_id) is None):
        raise Invalid("A patient account must be linked to an existing patient.", fields={"patient_id": "required"})


def create_user(*, email: str, role: str, password: str | None = None,
                provider_id: int | None = None, patient_id: int | None = None, active: bool = True) -> User:
    email = email.strip().lower()
    _check_links(role, provider_id, patient_id)
    if db.session.scalar(select(User).where(User.email == email)) is not None:
        raise Conflict(f"A user with e-mail {email} exists already.", fields={"email": "already used"})
    if password:
        check_new_password(password, email=email)
    user = User(email=email, role=role, provider_id=provider_id if role == "provider" else None,
                patient_id=patient_id if role == "patient" else None,
                password_hash=hash_password(password) if password else None, active=active)
    db.session.add(user)
    db.session.commit()
    return user


def list_users(*, role: str | None = None, q: str | None = None):
    query = select(User).order_by(User.email)
    if role:
        query = query.where(User.role == role)
    if q:
        query = query.where(User.email.ilike(f"%{q.lower()}%"))
    return query


def get_user(user_id: int) -> User:
    return get_or_404(User, user_id, f"No user {user_id}.")


def _end_sessions_and_tokens(user: User, now) -> None:
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now))
    db.session.execute(update(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
                       .values(revoked_at=now))


def update_user(user_id: int, data: dict, *, by: User) -> User:
    """Change a user's role, links, password or whether they may sign in; disabling ends every session
    and token of theirs in the same transaction, so it takes effect on their very next request."""
    user = get_user(user_id)
    if user.id == by.id and (data.get("active") is False or data.get("role", user.role) != user.role):
        raise Conflict("An administrator cannot disable or demote their own account.",
                       fields={"active" if "active" in data else "role": "your own account"})
    previous_role = user.role
    role = data.get("role", user.role)
    provider_id = data.get("provider_id", user.provider_id)
    patient_id = data.get("patient_id", user.patient_id)
    _check_links(role, provider_id, patient_id)
    if data.get("password"):
        check_new_password(data["password"], email=user.email)
    user.role = role
    user.provider_id = provider_id if role == "provider" else None
    user.patient_id = patient_id if role == "patient" else None
    if data.get("password"):
        user.password_hash = hash_password(data["password"])
    if "active" in data:
        user.active = data["active"]
        if data["active"]:
            user.failed_logins, user.locked_until = 0, None
    if not user.active or data.get("password") or role != previous_role:
        _end_sessions_and_tokens(user, utcnow())
    db.session.commit()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, *, name: str = "", days: int | None = None) -> str:
    """A new bearer token; the plain value is returned once and never stored."""
    token = "cp_" + secrets.token_urlsafe(32)
    lifetime = timedelta(days=days or current_app.config["API_TOKEN_DAYS"])
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(token), name=name,
                            expires_at=utcnow() + lifetime))
    db.session.commit()
    return token


def revoke_token(token: ApiToken) -> None:
    token.revoked_at = utcnow()
    db.session.commit()


def tokens_of(user: User):
    return select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())


def token_of(token_id: int, *, caller: Caller) -> ApiToken:
    """One of the caller's own tokens; someone else's answers 404 like a missing one."""
    from careplan.audit.service import note_denied

    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != caller.user_id:
        if token is not None:
            note_denied("token", token_id, detail="someone else's token", caller=caller)
        raise NotFound(f"No token {token_id}.")
    return token


def live_token(token: str, now: datetime | None = None) -> ApiToken | None:
    """The token row of a bearer value that still stands: not revoked, not expired, its user active."""
    now = now or utcnow()
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.active:
        return None
    # Saved with the request's commit, as a session's last_seen_at: the owner's token list shows it.
    row.last_used_at = now
    return row


def user_for_token(token: str, now: datetime | None = None) -> User | None:
    row = live_token(token, now)
    return row.user if row is not None else None


def authenticate(email: str, password: str, *, caller: Caller) -> User:
    """The user with this e-mail and password. Every refusal looks the same from outside (a missing,
    disabled or locked account, or a wrong password: one status, one message, one password hash computed),
    so sign-in cannot be used to find out which accounts exist or are locked. Wrong passwords count against
    the account: after LOGIN_LOCK_AFTER in a row it is locked for LOGIN_LOCK_MINUTES, even for the right
    password. The count is committed before refusing, because the refusal rolls the request back."""
    config = current_app.config
    now = utcnow()
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.password_hash:
        # Verify against a real hash anyway, so that a wrong e-mail takes as long as a wrong password.
        try:
            _hasher().verify(_hash_to_waste_time_on(_hasher()), password)
        except (VerificationError, InvalidHashError):
            pass
        why = "no such account" if user is None else "account without a password"
    else:
        matches = password_matches(user, password)
        locked = user.locked_until is not None and user.locked_until > now
        if matches and user.active and not locked:
            user.failed_logins, user.locked_until = 0, None
            return user
        why = "account locked" if locked else "account disabled" if not user.active else "wrong password"
        if not locked:
            user.failed_logins += 1
            if user.failed_logins >= config["LOGIN_LOCK_AFTER"]:
                user.locked_until = now + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
                user.failed_logins = 0
            db.session.commit()
    _note_refused_login(user, why, caller)
    raise Unauthenticated("The e-mail or the password is wrong, or the account is disabled or locked for a while.")


def _note_refused_login(user: User | None, why: str, caller: Caller) -> None:
    from careplan.audit.service import note_denied

    note_denied("login", user.id if user else "", detail=why, user=user, caller=caller)


def login_with_token(email: str, password: str, *, caller: Caller, name: str = "login",
                     days: int | None = None) -> tuple[User, str]:
    user = authenticate(email, password, caller=caller)
    return user, issue_token(user, name=name, days=days)


# Web sessions. Flask's cookie is signed, not secret: it carries only a random session id whose
# SHA-256 names a web_sessions row, so the server decides whether the session still stands.

def start_web_session(user: User, *, replacing: str | None, remote_addr: str) -> str:
    """A new browser session id for this user, ending the session `replacing` named (so an id planted
    before sign-in is worth nothing afterwards). The id is returned once; only its digest is stored."""
    now = utcnow()
    if replacing:
        end_web_session(replacing, commit=False)
    sid = secrets.token_urlsafe(32)
    db.session.add(WebSession(session_hash=_digest(sid), user_id=user.id, created_at=now, last_seen_at=now,
                              remote_addr=remote_addr[:64]))
    db.session.commit()
    return sid


def end_web_session(sid: str, *, commit: bool = True) -> None:
    db.session.execute(update(WebSession).where(WebSession.session_hash == _digest(sid),
                                                WebSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
    if commit:
        db.session.commit()


def live_web_session(sid: str, now: datetime | None = None) -> WebSession | None:
    """A session that still stands: not revoked, used within the idle timeout, younger than the absolute one."""
    config = current_app.config
    now = now or utcnow()
    row = db.session.scalar(select(WebSession).where(WebSession.session_hash == _digest(sid)))
    if (row is None or row.revoked_at is not None or not row.user.active
            or now - row.last_seen_at > timedelta(minutes=config["SESSION_IDLE_MINUTES"])
            or now - row.created_at > timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])):
        return None
    # Saved with the request's commit, so only requests that went through count.
    row.last_seen_at = now
    return row


def current_token_expiry(token: str) -> datetime:
    return db.session.scalar(select(ApiToken.expires_at).where(ApiToken.token_hash == _digest(token)))


def users_by_id(ids) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
