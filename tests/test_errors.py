"""Every error, from Flask or from a service, has the one format of the contract."""
import re


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


# --- The database unreachable: every endpoint answers 503 with the error body, not a 500.

def _unreachable_engine(app, tmp_path):
    from sqlalchemy import create_engine

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A port where nothing listens on this machine: the connection is refused at once.
        return create_engine("postgresql+psycopg://postgres@127.0.0.1:9/gone", connect_args={"connect_timeout": 2})
    return create_engine(f"sqlite:///{tmp_path / 'no-such-directory' / 'careplan.db'}")


def _sample_path(rule) -> str:
    values = {name: "1" for name in rule.arguments}
    values.update({k: v for k, v in (rule.defaults or {}).items()})
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", value, path)
    return path


def test_the_database_unreachable_is_503_with_the_error_body_on_every_endpoint(app, client, auth, monkeypatch,
                                                                                tmp_path, caplog):
    from careplan.extensions import db

    admin = auth("admin")
    desk_page = client.get("/desk", headers=admin)
    assert desk_page.status_code == 200
    # Mid-run, the application loses its database.
    with app.app_context():
        monkeypatch.setitem(db._app_engines[app], None, _unreachable_engine(app, tmp_path))
    answered = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "docs" in rule.rule or rule.rule == "/api/openapi.json":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = _sample_path(rule)
            body = {} if method in ("POST", "PUT", "PATCH") else None
            response = client.open(path, method=method, json=body, headers=admin)
            answered[(method, rule.rule)] = response.status_code
            assert response.status_code != 500, (method, path)
            if response.status_code == 503:
                assert response.headers["Retry-After"]
                if path.startswith("/fhir"):
                    assert response.get_json()["resourceType"] == "OperationOutcome"
                elif path.startswith(("/api", "/healthz", "/metrics")) and not any(
                        page in path for page in ("appointment-links", "slot-offers")):
                    assert response.get_json()["error"]["code"] == "unavailable", path
                else:
                    assert response.mimetype == "text/html" and "database does not answer" in response.text
    # Everything that reads or writes the database answers 503; only what needs none (a signed-out page,
    # a request refused by its own shape) answers otherwise.
    unavailable = [key for key, status in answered.items() if status == 503]
    api = [key for key in answered if key[1].startswith("/api/v1")]
    assert len(api) > 50
    assert all(answered[key] in (503, 422) for key in api), {k: answered[k] for k in api if answered[k] not in (503, 422)}
    assert ("GET", "/desk") in unavailable and ("GET", "/fhir/<resource_type>") in unavailable
    assert ("GET", "/healthz") in unavailable


def test_a_nul_byte_in_a_path_is_404_on_every_backend(client, auth):
    """PostgreSQL stores no NUL: a path part holding one matches no route instead of reaching the driver."""
    admin = auth("admin")
    _is_error(client.get("/api/v1/appointment-links/ab%00cd", headers=admin), 404, "not_found")
    # A feed URL is opened by calendar programs and people alike: its 404 is a page.
    assert client.get("/calendar/ab%00cd.ics", headers=admin).status_code == 404
    _is_error(client.patch("/api/v1/disciplines/mass%00age", json={"active": False}, headers=admin), 404, "not_found")
    fhir = client.get("/fhir/Patient/1%00", headers=admin)
    assert fhir.status_code == 404 and fhir.get_json()["resourceType"] == "OperationOutcome"


def test_a_transaction_postgresql_gave_up_for_another_is_409_changed_meanwhile(app):
    """A deadlock's victim (40P01) or a serialization failure (40001) met a concurrent change: 409 with the
    error body, not the 503 of a database that does not answer (the handler the app registers for
    OperationalError, given what psycopg raises)."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    def answer(reason):
        with app.test_request_context("/api/v1/appointments/1/move", method="POST"):
            handler = app._find_error_handler(OperationalError("UPDATE appointments", {}, reason), [])
            return handler(OperationalError("UPDATE appointments", {}, reason))

    for reason in (psycopg.errors.DeadlockDetected("deadlock detected"),
                   psycopg.errors.SerializationFailure("could not serialize access")):
        response = answer(reason)
        assert response.status_code == 409 and response.get_json()["error"]["code"] == "changed_meanwhile"
    response = answer(psycopg.errors.AdminShutdown("terminating connection"))
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "unavailable"
