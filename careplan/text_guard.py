"""Refuse text no database can store: NUL bytes (PostgreSQL) and lone surrogates (not UTF-8).

Checked once per request, before any schema runs, so that every endpoint
answers 422 naming the field instead of failing deep inside the driver.
"""
from __future__ import annotations

from flask import Flask, request

from careplan.errors import Invalid

PROBLEM = "must not contain NUL characters or invalid Unicode"


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bad_paths(value, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [] if _storable(value) else [path or "_body"]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            key_path = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not _storable(key):
                found.append(path or "_body")
            found += bad_paths(item, key_path)
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in bad_paths(item, f"{path}[{i}]")]
    return []


def check_request() -> None:
    paths = bad_paths(request.args.to_dict(flat=True))
    if request.form:
        paths += bad_paths({key: request.form.getlist(key) for key in request.form})
    if request.is_json:
        paths += bad_paths(request.get_json(silent=True))
    if paths:
        raise Invalid("Some fields hold characters that cannot be stored.", fields={p: PROBLEM for p in paths})


def register(app: Flask) -> None:
    app.before_request(check_request)
