"""Defects found by using the demo clinic as its people do (front desk, clinician, patient), each pinned here
through real HTTP requests to the application."""
from __future__ import annotations

from tests import factories


def test_a_french_patient_refused_a_staff_page_reads_the_refusal_in_french(app, client, auth):
    with app.app_context():
        patient_id = factories.patient(name="Josée Tremblay", language="fr").id
    me = auth("patient", patient_id=patient_id)
    page = client.get("/desk", headers=me)
    assert page.status_code == 403
    assert '<html lang="fr">' in page.text
    # The sentence naming who is signed in was English on the French page.
    assert "Signed in as" not in page.text and "you cannot open this page" not in page.text
    assert "vous ne pouvez pas ouvrir cette page" in page.text
