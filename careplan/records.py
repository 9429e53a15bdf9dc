"""Looking a record up by its key, the one way every service does it."""
from __future__ import annotations

from careplan.errors import NotFound
from careplan.extensions import db


def get_or_404(model, key, message: str):
    """The row of `model` with this primary key, or NotFound with `message` (a 404 in the error format)."""
    row = db.session.get(model, key)
    if row is None:
        raise NotFound(message)
    return row
