"""Bodies too big or JSON too deep for any real request: refused before anything reads them.

A body over MAX_CONTENT_LENGTH is Werkzeug's 413 as soon as it is read (the error format names the limit).
JSON nested deeper than MAX_JSON_DEPTH is a 422: Python's parser, marshmallow and the text checks all
recurse, so a few hundred brackets would otherwise end in a RecursionError and a 500. The depth is measured
on the raw bytes, without recursion, before any of them runs.
"""
from __future__ import annotations

import re

from flask import Flask, current_app, request

from careplan.errors import Invalid

# JSON strings (escapes included) and everything that is not a bracket: what is left is the nesting alone.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def json_depth(body: bytes) -> int:
    deepest = depth = 0
    for byte in _NOT_BRACKET.sub(b"", _STRING.sub(b"", body)):
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_request() -> None:
    if not request.is_json:
        return
    # Reading the body is where a body over MAX_CONTENT_LENGTH becomes the 413.
    body = request.get_data(cache=True)
    limit = current_app.config["MAX_JSON_DEPTH"]
    if json_depth(body) > limit:
        raise Invalid(f"The JSON body is nested more than {limit} levels deep.",
                      fields={"_body": f"at most {limit} levels of nesting"})


def register(app: Flask) -> None:
    app.before_request(check_request)
