"""A patient's record says first, in words, that a red flag stopped their care (found in use: the desk's record of
Pierre Gagnon showed it only as a badge in the intakes list, under the fold on a phone), for the desk and the
care team alike, until a clinician overrides it."""
from __future__ import annotations

from careplan.intake.service import override_red_flag
from tests import factories


def test_the_record_opens_with_the_red_flag_until_a_clinician_overrides_it(client, app, auth):
    with app.app_context():
        patient, provider = factories.patient(name="Pierre Gagnon"), factories.provider(name="Ana Moreau")
        # A session booked before the screen puts Ana on his care team.
        factories.appointment(patient, provider)
        pierre, clinician = patient.id, provider.id
    desk = auth("front_desk")
    refused = client.post(f"/api/v1/patients/{pierre}/intakes", headers=desk,
                          json=factories.intake_body(red_flags={"loss_of_bladder_or_bowel_control": True}))
    assert refused.status_code == 422
    intake = refused.get_json()["error"]["intake_id"]
    for url, who in ((f"/desk/patients/{pierre}", desk),
                     (f"/me/patients/{pierre}", auth("provider", provider_id=clinician))):
        page = client.get(url, headers=who)
        assert page.status_code == 200, url
        text = page.text
        banner = text.index("Red flag: sent for urgent medical care.")
        # Before the intakes, the plans and the appointments.
        assert banner < text.index('id="intakes-title"'), url
        assert "loss of bladder or bowel control (possible cauda equina syndrome)" in text
        assert f'href="/desk/intakes/{intake}">Open the screen' in text
    with app.app_context():
        override_red_flag(intake, "Reviewed: no cauda equina signs, conservative care may begin.",
                          caller=factories.caller(factories.user("admin")))
    assert "Red flag: sent for urgent medical care." not in client.get(f"/desk/patients/{pierre}", headers=desk).text


def test_a_clear_record_has_no_banner(client, app, auth):
    with app.app_context():
        someone = factories.patient().id
    desk = auth("front_desk")
    assert client.post(f"/api/v1/patients/{someone}/intakes", headers=desk,
                       json=factories.intake_body()).status_code == 201
    assert "Red flag: sent for urgent medical care." not in client.get(f"/desk/patients/{someone}", headers=desk).text


def test_the_clinicians_day_marks_the_session_of_a_patient_whose_red_flag_waits(client, app, auth):
    """As the desk's calendar block does: Ana's day listed Pierre's session like any other."""
    with app.app_context():
        pierre = factories.patient(name="Pierre Gagnon")
        other = factories.patient(name="Martha Kowalski")
        ana = factories.provider(name="Ana Moreau", hours="mon-sun 07:00-20:00")
        session = factories.appointment(pierre, ana, days_ahead=1)
        factories.appointment(other, ana, session.starts_at.replace(hour=(session.starts_at.hour + 2) % 24))
        day, ids = session.starts_at, (pierre.id, ana.id)
    desk = auth("front_desk")
    client.post(f"/api/v1/patients/{ids[0]}/intakes", headers=desk,
                json=factories.intake_body(red_flags={"fever": True, "unexplained_weight_loss": True}))
    from careplan.clinic import service as clinic

    with app.app_context():
        local_day = clinic.to_local(day).date()
    page = client.get(f"/me/day?day={local_day.isoformat()}", headers=auth("provider", provider_id=ids[1])).text
    items = page.split('<li class="agenda__item')[1:]
    marked = [item for item in items if "Red flag" in item]
    assert len(items) == 2 and len(marked) == 1 and "Pierre Gagnon" in marked[0]
