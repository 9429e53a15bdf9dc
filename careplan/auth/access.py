"""The one decorator every API view wears: who may call it."""
from __future__ import annotations

from functools import wraps

from careplan.auth.service import current_user
from careplan.errors import Forbidden, Unauthenticated


def login_required(*roles: str):
    """Refuse anonymous callers (401) and, when roles are given, callers of other roles (403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                raise Unauthenticated("Sign in, or send 'Authorization: Bearer <token>'.")
            if roles and user.role not in roles:
                raise Forbidden("Your role may not do this.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


STAFF = ("admin", "front_desk")
