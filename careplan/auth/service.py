"""Users, password hashes and API tokens, and who is calling."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from sqlalchemy import select

from careplan.auth.models import ROLES, ApiToken, User
from careplan.db import utcnow
from careplan.errors import Conflict, Invalid
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.providers.models import Provider

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(*, email: str, role: str, password: str | None = None,
                provider_id: int | None = None, patient_id: int | None = None) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise Invalid(f"Role must be one of {', '.join(ROLES)}.", fields={"role": "unknown role"})
    if role == "provider" and (provider_id is None or db.session.get(Provider, provider_id) is None):
        raise Invalid("A provider account must be linked to an existing provider.", fields={"provider_id": "required"})
    if role == "patient" and (patient_id is None or db.session.get(Patient, patient_id) is None):
        raise Invalid("A patient account must be linked to an existing patient.", fields={"patient_id": "required"})
    if db.session.scalar(select(User).where(User.email == email)) is not None:
        raise Conflict(f"A user with e-mail {email} exists already.", fields={"email": "already used"})
    user = User(email=email, role=role, provider_id=provider_id if role == "provider" else None,
                patient_id=patient_id if role == "patient" else None,
                password_hash=hash_password(password) if password else None)
    db.session.add(user)
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


def user_for_token(token: str, now: datetime | None = None) -> User | None:
    now = now or utcnow()
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.active:
        return None
    return row.user


def current_user() -> User | None:
    """The caller of this request, from its bearer token; cached on `g`."""
    if "user" in g:
        return g.user
    user = None
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        user = user_for_token(value.strip())
    g.user = user
    return user
