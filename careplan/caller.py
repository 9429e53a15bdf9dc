"""Who is calling a service, and from where.

A worker and a command have no request, so the services take their caller as an argument instead of
reading Flask's `request`, `session` or `g`: the request edge builds a `Caller` from the signed-in user
and the client's address, a worker or command uses `Caller.system(...)`. The audit trail records it.
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from careplan.auth.models import User

ORIGINS = ("web", "api", "worker", "cli")


@dataclass(frozen=True)
class Caller:
    user: Optional["User"]
    remote_addr: str = ""
    origin: str = "web"

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"unknown caller origin {self.origin!r}")

    @classmethod
    def system(cls, origin: str) -> "Caller":
        """A caller with no person behind it: a worker's job or an operator's command."""
        return cls(user=None, remote_addr="", origin=origin)

    @property
    def role(self) -> str:
        return self.user.role if self.user is not None else ""

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None


def worker_name() -> str:
    """A lease owner's name, unique per claim loop: the host, the process and a random part (the e-mail,
    webhook and solve-job workers record it on what they claim)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
