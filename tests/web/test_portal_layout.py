"""A patient's appointments on a phone: each session's discipline and clinician stay readable beside or above
its four actions. At 390 px the actions (Confirm, Start sooner?, I can't make it, Cancel) squeezed the
what-and-who to a sliver: "Physiotherapy" and "physiotherapist" ran out of it, under the buttons. Only a
browser lays this out."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from careplan.clinic import service as clinic
from careplan.extensions import db
from careplan.scheduling.models import Appointment
from tests import factories
from tests.web.conftest import PHONE, WIDE, screenshot, sign_in


# Per session: the words' box must hold its words, and must not run under the actions' box.
CROWDED = """() => [...document.querySelectorAll('.visit-card__session')].flatMap(session => {
  const words = session.children[1], actions = session.querySelector('.visit-card__actions');
  const w = words.getBoundingClientRect(), a = actions.getBoundingClientRect();
  const overlap = w.right > a.left + 1 && w.bottom > a.top + 1 && a.bottom > w.top + 1;
  const spills = [...words.querySelectorAll('*')].some(el => el.getBoundingClientRect().right > w.right + 1);
  return overlap || spills || words.scrollWidth > words.clientWidth + 1
    ? [words.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60)] : [];
})"""


def test_a_patients_sessions_keep_their_words_clear_of_their_actions_on_a_phone(app, person, tab):
    with app.app_context():
        physio = factories.provider(name="Ana Moreau", hours="mon-sun 07:00-21:00")
        kinesiology = factories.provider(name="Lucas Ferreira", disciplines=("kinesiology",),
                                         hours="mon-sun 07:00-21:00")
        patient = factories.patient(name="Aisha Mohammed", hours="mon-sun 07:00-21:00")
        monday = clinic.today() - timedelta(days=clinic.today().weekday()) + timedelta(weeks=2)
        plan = factories.care_plan(patient, {"physiotherapy": physio, "kinesiology": kinesiology}, start=monday,
                                   phases=(("acute", 2, "Calm", [("physiotherapy", 2, 1, 45),
                                                                 ("kinesiology", 1, 1, 60)]),))
        # A plan waiting to start: its first session offers "Start sooner?", the others "Earlier?".
        for who, code, hour, minutes in ((physio, "physiotherapy", 9, 45), (kinesiology, "kinesiology", 10, 60)):
            start = clinic.local_datetime(monday + timedelta(days=1), time(hour))
            db.session.add(Appointment(patient_id=patient.id, provider_id=who.id, discipline_code=code,
                                       starts_at=start, ends_at=start + timedelta(minutes=minutes), plan_id=plan.id,
                                       phase_name="acute", plan_week=0))
        db.session.commit()
        patient_id = patient.id
    page = tab(PHONE)
    sign_in(page, person("patient", patient_id=patient_id))
    page.goto("/my/appointments")
    assert page.get_by_role("button", name="Start sooner?").count() == 1
    for viewport in (PHONE, WIDE):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(100)
        assert page.evaluate(CROWDED) == [], viewport
        screenshot(page, f"portal-sessions-{viewport['width']}")
