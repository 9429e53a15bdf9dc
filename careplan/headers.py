"""Security headers on every answer, and no cache keeping a copy of health information.

One after_request hook rather than Flask-Talisman: Talisman (last release 2023) also redirects to HTTPS and
rewrites cookie settings, which the deployment and config/settings.py already decide; and since no page has
an inline script or style left (Swagger UI's start-up is static/swagger-ui-init.js), the policy needs no nonce.
"""
from __future__ import annotations

from flask import Flask, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    # Swagger UI's stylesheet draws its icons as data: URIs.
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The confirm and cancel links of e-mails carry their token in the URL: no Referer may repeat it.
    "Referrer-Policy": "no-referrer",
}


def _static_file() -> bool:
    """The app's and Swagger UI's files: the same for everyone, no health information."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".swagger_ui_static")


def _add_headers(response):
    response.headers.update(HEADERS)
    if not _static_file():
        # Pages, API, FHIR, calendar feeds and errors all may carry health information: no copy anywhere.
        response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.after_request(_add_headers)
