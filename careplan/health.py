from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from careplan.errors import error_body
from careplan.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers and operators)."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("health check: the database does not answer")
        return error_body(503, "The database does not answer.", code="unavailable"), 503
    return {"status": "ok"}
