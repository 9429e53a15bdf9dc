"""The Flask commands of the service contract, run as an operator would."""
from sqlalchemy import func, select

from careplan.auth.models import User
from careplan.auth.service import user_for_token
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.providers.models import Provider


def test_seed_demo_loads_a_realistic_clinic_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["careplan", "seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "admin@riverside.example" in result.output
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


def test_users_and_tokens(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create", "--email", "Desk@Clinic.example", "--role", "front_desk",
                               "--password", "long enough password"]).exit_code == 0
    duplicate = runner.invoke(args=["users", "create", "--email", "desk@clinic.example", "--role", "admin"])
    assert duplicate.exit_code != 0 and "exists already" in duplicate.output
    unlinked = runner.invoke(args=["users", "create", "--email", "dr@clinic.example", "--role", "provider"])
    assert unlinked.exit_code != 0 and "provider" in unlinked.output

    result = runner.invoke(args=["tokens", "create", "--email", "desk@clinic.example"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    with app.app_context():
        assert user_for_token(token).email == "desk@clinic.example"
    response = app.test_client().get("/api/v1/patients", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
