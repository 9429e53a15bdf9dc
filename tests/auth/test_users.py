"""Administrators manage user accounts over the API."""
from __future__ import annotations

from tests import factories


def test_admin_creates_lists_and_relinks_users(app, client, auth):
    admin = auth("admin")
    with app.app_context():
        provider_id = factories.provider().id
    created = client.post("/api/v1/users", headers=admin, json={
        "email": "Dr.Wu@Clinic.example", "role": "provider", "provider_id": provider_id,
        "password": "long enough password"})
    assert created.status_code == 201
    user = created.get_json()
    assert user["email"] == "dr.wu@clinic.example" and "password" not in user and user["active"] is True
    listed = client.get("/api/v1/users?role=provider", headers=admin).get_json()
    assert [u["id"] for u in listed] == [user["id"]]
    relinked = client.patch(f"/api/v1/users/{user['id']}", headers=admin, json={"role": "front_desk"})
    assert relinked.status_code == 200
    assert relinked.get_json()["role"] == "front_desk" and relinked.get_json()["provider_id"] is None
    assert client.post("/api/v1/auth/login", json={"email": "dr.wu@clinic.example",
                                                    "password": "long enough password"}).status_code == 201


def test_links_and_duplicates_are_checked(client, auth):
    admin = auth("admin")
    missing = client.post("/api/v1/users", headers=admin, json={"email": "p@clinic.example", "role": "patient"})
    assert missing.status_code == 422 and "patient_id" in missing.get_json()["error"]["fields"]
    assert client.post("/api/v1/users", headers=admin,
                       json={"email": "a@clinic.example", "role": "admin"}).status_code == 201
    assert client.post("/api/v1/users", headers=admin,
                       json={"email": "A@clinic.example", "role": "admin"}).status_code == 409


def test_an_admin_cannot_lock_themselves_out(client, auth):
    admin = auth("admin")
    me = client.get("/api/v1/auth/me", headers=admin).get_json()
    refused = client.patch(f"/api/v1/users/{me['id']}", headers=admin, json={"active": False})
    assert refused.status_code == 409
    assert client.patch(f"/api/v1/users/{me['id']}", headers=admin, json={"role": "front_desk"}).status_code == 409
