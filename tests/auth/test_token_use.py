"""A token records when it was last used, so its owner can tell a forgotten token from a live one."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from careplan.auth.models import ApiToken
from careplan.db import utcnow
from careplan.extensions import db
from tests import factories


def test_a_token_keeps_when_it_was_last_used(app, client):
    with app.app_context():
        headers = factories.bearer(factories.user("front_desk"))
    listed = client.get("/api/v1/auth/tokens", headers=headers).get_json()
    used = datetime.fromisoformat(listed[0]["last_used_at"])
    assert abs(used - utcnow()) < timedelta(minutes=1)
    with app.app_context():
        db.session.execute(ApiToken.__table__.update().values(last_used_at=utcnow() - timedelta(days=3)))
        db.session.commit()
    assert client.get("/api/v1/patients", headers=headers).status_code == 200
    with app.app_context():
        assert utcnow() - db.session.scalar(select(ApiToken.last_used_at)) < timedelta(minutes=1)
