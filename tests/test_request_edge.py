"""Services take their caller: only the request edge reads Flask's `request`, `session` and `g`.

A worker or a command has no request, so a service that reads one fails there (or, worse, audits the wrong
person). This walks every module of the package and finds each use of those three names."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import careplan

PACKAGE = Path(careplan.__file__).parent
REQUEST_STATE = {"request", "session", "g", "has_request_context"}

# The modules that stand at the request's edge: the API's routes and the pages, who is calling
# (careplan.auth.edge, with the decorators of careplan.auth.access and the sign-in form), and the
# app-wide request hooks (the error format, headers, the text guard, Idempotency-Key, If-Match, the pages' query
# parameters, the paging Link header).
EDGE = {"auth/edge.py", "auth/access.py", "auth/web.py", "errors.py", "extensions.py", "operations/logs.py", "operations/metrics.py", "i18n.py", "limits.py", "headers.py", "text_guard.py", "page_query.py", "api_docs.py",
        "idempotency.py", "versions.py"}


def _at_edge(relative: str) -> bool:
    return relative in EDGE or relative.startswith("web/") or relative.endswith("routes.py")


def request_state_used(source: str) -> set[str]:
    """The request-state names a module takes from Flask, imported by name or reached as `flask.<name>`."""
    used = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "flask":
            used |= {alias.name for alias in node.names if alias.name in REQUEST_STATE}
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "flask"
              and node.attr in REQUEST_STATE):
            used.add(node.attr)
    return used


def test_the_scan_sees_each_way_of_reaching_the_request():
    assert request_state_used("from flask import g, current_app") == {"g"}
    assert request_state_used("import flask\ndef f():\n    return flask.request.path") == {"request"}
    assert request_state_used("def f():\n    from flask import session\n    return session") == {"session"}
    assert request_state_used("from flask import current_app") == set()


def test_no_service_reads_the_request():
    readers = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        used = request_state_used(path.read_text())
        if used and not _at_edge(relative):
            readers[relative] = sorted(used)
    assert readers == {}


def test_every_service_module_imports_and_is_off_the_edge():
    services = sorted(PACKAGE.glob("*/service.py"))
    assert len(services) >= 10
    for path in services:
        relative = path.relative_to(PACKAGE).as_posix()
        module = importlib.import_module("careplan." + relative[:-3].replace("/", "."))
        assert not _at_edge(relative) and not request_state_used(path.read_text()), module.__name__
