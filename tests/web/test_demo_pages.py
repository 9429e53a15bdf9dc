"""The demo clinic of `make run` fills the pages: a day at the desk, a failed e-mail, a note, a booked plan."""
from __future__ import annotations

from sqlalchemy import select

from careplan.auth.models import User
from careplan.extensions import db
from careplan.notes.models import Note
from careplan.patients.models import Patient
from careplan.plans.models import CarePlan


def test_the_demo_fills_the_pages(client, app, auth):
    with app.app_context():
        from careplan.demo import load_demo

        load_demo()
        linh = db.session.scalar(select(Patient).where(Patient.name == "Linh Tran"))
        note = db.session.scalar(select(Note).where(Note.patient_id == linh.id))
        author = db.session.get(User, note.author_user_id)
        plan_id = db.session.scalar(select(CarePlan.id).where(CarePlan.patient_id == linh.id))
        ids = linh.id, author.provider_id, plan_id
    desk = client.get("/desk", headers=auth("front_desk")).text
    assert "Recipient address rejected" in desk and "Send again" in desk
    schedule = client.get(f"/desk/plans/{ids[2]}/schedule", headers=auth("front_desk")).text
    assert "session-block" in schedule and "Booked appointments" in schedule
    record = client.get(f"/me/patients/{ids[0]}", headers=auth("provider", provider_id=ids[1])).text
    assert "Mid-back pain between the shoulder blades" in record
