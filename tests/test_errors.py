"""Every error, from Flask or from a service, has the one format of the contract."""


def _is_error(response, status, code):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def test_unknown_url_is_404_in_the_error_format(client):
    _is_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_405_and_keeps_allow(client):
    response = client.delete("/healthz")
    _is_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_no_token_is_401(client):
    _is_error(client.get("/api/v1/providers"), 401, "unauthenticated")


def test_bad_token_is_401(client):
    _is_error(client.get("/api/v1/providers", headers={"Authorization": "Bearer nope"}), 401, "unauthenticated")


def test_role_not_allowed_is_403(client, auth):
    _is_error(client.post("/api/v1/providers", json={}, headers=auth("patient")), 403, "forbidden")


def test_unexpected_error_is_500_without_internals_and_rolls_back(app, client, auth, caplog):
    from careplan.providers import service

    headers = auth("admin")
    original = service.create_provider

    def explode(data):
        from careplan.extensions import db
        from careplan.providers.models import Provider

        db.session.add(Provider(name="Half written", email="half@clinic.example"))
        db.session.flush()
        raise RuntimeError("secret internals")

    service.create_provider = explode
    try:
        response = client.post("/api/v1/providers", headers=headers, json={
            "name": "X", "email": "x@clinic.example", "disciplines": ["physiotherapy"]})
    finally:
        service.create_provider = original
    error = _is_error(response, 500, "internal_error")
    assert "secret" not in error["message"]
    assert "secret internals" in caplog.text
    listing = client.get("/api/v1/providers", headers=headers).get_json()
    assert all(p["email"] != "half@clinic.example" for p in listing)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_text_no_database_can_store_is_422_naming_the_field(client, auth):
    response = client.post("/api/v1/patients", headers=auth("front_desk"),
                           json={"name": "Nul\x00l", "email": "n@mail.example", "availability": [
                               {"day": "mon", "start": "09:00", "end": "10:00"}]})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["name"]
    search = client.get("/api/v1/patients?q=a%00b", headers=auth("front_desk"))
    assert search.status_code == 422 and "q" in search.get_json()["error"]["fields"]
