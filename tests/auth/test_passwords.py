"""New passwords must be hard to guess, wherever they are set: the users command, the admin API, the admin page.
The demo seed keeps its documented password (README, `make run`'s output)."""
from __future__ import annotations

from sqlalchemy import select

from careplan.auth.models import User
from careplan.extensions import db
from tests import factories

# Long enough for the old length rule, and among the most common passwords there are.
COMMON = "password123"


def test_the_api_refuses_common_and_guessable_passwords(client, auth):
    admin = auth("admin")
    for guessable in (COMMON, "qwertyuiop", "desk@clinic.example"):
        refused = client.post("/api/v1/users", headers=admin, json={
            "email": "desk@clinic.example", "role": "front_desk", "password": guessable})
        assert refused.status_code == 422, guessable
        assert "password" in refused.get_json()["error"]["fields"], guessable
    made = client.post("/api/v1/users", headers=admin, json={
        "email": "desk@clinic.example", "role": "front_desk", "password": "lantern orchard velvet"})
    assert made.status_code == 201


def test_changing_a_password_is_checked_too_and_changes_nothing_when_refused(app, client, auth):
    admin = auth("admin")
    with app.app_context():
        user = factories.user("front_desk")
        user_id, email, old_hash = user.id, user.email, user.password_hash
    refused = client.patch(f"/api/v1/users/{user_id}", headers=admin,
                           json={"password": COMMON, "role": "admin"})
    assert refused.status_code == 422 and "password" in refused.get_json()["error"]["fields"]
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.password_hash, user.role) == (old_hash, "front_desk")
    assert client.patch(f"/api/v1/users/{user_id}", headers=admin,
                        json={"password": "lantern orchard velvet"}).status_code == 200
    assert client.post("/api/v1/auth/login", json={"email": email,
                                                    "password": "lantern orchard velvet"}).status_code == 201


def test_the_admin_page_names_the_weak_password(app, client, auth):
    refused = client.post("/admin/users", headers=auth("admin"),
                          data={"email": "desk@clinic.example", "role": "front_desk", "password": COMMON})
    assert refused.status_code == 422 and 'href="#password"' in refused.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "desk@clinic.example")) is None


def test_the_users_command_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", "desk@clinic.example",
                                                "--role", "front_desk", "--password", COMMON])
    assert result.exit_code != 0 and "password" in result.output.lower()
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "desk@clinic.example")) is None


def test_the_demo_logins_keep_their_documented_password(app, client):
    from careplan.demo import DEMO_PASSWORD

    assert app.test_cli_runner().invoke(args=["careplan", "seed-demo", "--if-empty"]).exit_code == 0
    signed_in = client.post("/api/v1/auth/login", json={"email": "admin@riverside.example",
                                                         "password": DEMO_PASSWORD})
    assert signed_in.status_code == 201
    # ...but nobody can choose it for a real account.
    refused = client.post("/api/v1/users", headers={"Authorization": f"Bearer {signed_in.get_json()['token']}"},
                          json={"email": "desk@clinic.example", "role": "front_desk", "password": DEMO_PASSWORD})
    assert refused.status_code == 422
