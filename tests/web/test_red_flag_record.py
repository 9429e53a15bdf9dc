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
