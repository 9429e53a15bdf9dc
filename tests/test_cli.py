"""The Flask commands of the service contract, run as an operator would."""
from sqlalchemy import func, select

from careplan.auth.models import User
from careplan.auth.service import user_for_token
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.protocols.models import ProtocolTemplate
from careplan.providers.models import Provider


def test_seed_demo_loads_a_realistic_clinic_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["careplan", "seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "admin@riverside.example" in result.output
    assert "Loading the demo clinic" in result.output
    with app.app_context():
        providers = db.session.scalars(select(Provider)).all()
        assert len(providers) >= 15
        disciplines = {d.code for p in providers for d in p.disciplines}
        assert {"physiotherapy", "massage", "chiropractic", "psychotherapy", "nutrition", "kinesiology",
                "acupuncture", "naturopathy", "mental_performance"} <= disciplines
        assert any(len(p.disciplines) == 2 for p in providers)
        assert {w.day for p in providers for w in p.availability} == set(range(6))  # Monday to Saturday
        assert any(p.time_off for p in providers)
        patients = db.session.scalars(select(Patient)).all()
        assert len(patients) >= 12 and all(p.availability for p in patients)
        assert {u.role for u in db.session.scalars(select(User))} == {"admin", "front_desk", "provider", "patient"}
    again = runner.invoke(args=["careplan", "seed-demo", "--if-empty"])
    assert "not loaded" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Provider)) == len(providers)
    # Without --if-empty, a clinic already there is a plain refusal, not a traceback of a name conflict.
    refused = runner.invoke(args=["careplan", "seed-demo"])
    assert refused.exit_code == 1 and "The database has a clinic already" in refused.output
    assert "Traceback" not in refused.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Provider)) == len(providers)


def test_commands_before_the_migrations_say_to_run_them(tmp_path):
    from careplan import create_app

    empty = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}"},
                       instance_path=str(tmp_path / "instance"))
    for command in (["careplan", "load-protocols"], ["careplan", "seed-demo", "--if-empty"]):
        result = empty.test_cli_runner().invoke(args=command)
        assert result.exit_code == 1, result.output
        assert "run `flask --app wsgi db upgrade` first" in result.output


def test_users_and_tokens(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create", "--email", "Desk@Clinic.example", "--role", "front_desk",
                               "--password", "long enough password"]).exit_code == 0
    duplicate = runner.invoke(args=["users", "create", "--email", "desk@clinic.example", "--role", "admin",
                                      "--token-only"])
    assert duplicate.exit_code != 0 and "exists already" in duplicate.output
    unlinked = runner.invoke(args=["users", "create", "--email", "dr@clinic.example", "--role", "provider",
                                     "--token-only"])
    assert unlinked.exit_code != 0 and "provider" in unlinked.output

    result = runner.invoke(args=["tokens", "create", "--email", "desk@clinic.example"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    with app.app_context():
        assert user_for_token(token).email == "desk@clinic.example"
    response = app.test_client().get("/api/v1/patients", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_load_protocols_fills_a_fresh_database_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["careplan", "load-protocols"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        loaded = db.session.scalar(select(func.count()).select_from(ProtocolTemplate))
    assert loaded > 0 and f"{loaded} protocol templates current" in first.output
    again = runner.invoke(args=["careplan", "load-protocols"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        # Unchanged files add no versions: every deployment may run it.
        assert db.session.scalar(select(func.count()).select_from(ProtocolTemplate)) == loaded


def test_users_create_asks_for_the_password_hidden_and_twice(app, client):
    password = "correct horse battery staple clinic"
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "desk@clinic.example", "--role", "front_desk"],
        input=f"{password}\n{password}\n")
    assert result.exit_code == 0, result.output
    # Prompted for, and never echoed back.
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    assert password not in result.output
    signed_in = client.post("/api/v1/auth/login", json={"email": "desk@clinic.example", "password": password})
    assert signed_in.status_code == 201


def test_users_create_token_only_asks_nothing(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "robot@clinic.example", "--role", "front_desk", "--token-only"])
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "robot@clinic.example")).password_hash is None
