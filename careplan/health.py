from pathlib import Path

from flask import Blueprint, current_app, send_from_directory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from careplan.errors import RETRY_AFTER_SECONDS, error_body
from careplan.extensions import db

bp = Blueprint("health", __name__)

SWAGGER_UI = str(Path(__file__).resolve().parent / "static" / "vendor" / "swagger-ui")


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers and operators)."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("health check: the database does not answer")
        return (error_body(503, "The database does not answer.", code="unavailable"), 503,
                {"Retry-After": str(RETRY_AFTER_SECONDS)})
    return {"status": "ok"}


@bp.get("/api/docs/static/<path:filename>")
def swagger_ui_static(filename):
    """Swagger UI 5's built files, vendored under static/vendor/swagger-ui/ (with their licence and version)
    and served here, so the API docs work on a clinic network with no internet."""
    return send_from_directory(SWAGGER_UI, filename, max_age=86400)
