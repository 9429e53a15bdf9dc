"""Why a clinician is away is staff business: patients see when, never why, over the API and over FHIR."""
from __future__ import annotations

from datetime import timedelta

import pytest

from careplan.db import utcnow
from careplan.providers.service import add_time_off
from tests import factories

REASON = "Chemotherapy follow-up"


@pytest.fixture
def away(app):
    """A provider with time off next week (a private reason given) and the headers of each kind of caller."""
    with app.app_context():
        provider = factories.provider()
        start = (utcnow() + timedelta(days=7)).replace(microsecond=0)
        add_time_off(provider.id, {"starts_at": start, "ends_at": start + timedelta(days=2), "reason": REASON})
        callers = {role: factories.bearer(factories.user(role)) for role in ("patient", "front_desk", "provider")}
        return provider.id, callers


def _api_time_off(client, provider_id, headers):
    one = client.get(f"/api/v1/providers/{provider_id}", headers=headers)
    listed = client.get("/api/v1/providers", headers=headers)
    assert one.status_code == listed.status_code == 200
    [mine] = [p for p in listed.get_json() if p["id"] == provider_id]
    return one.get_json()["time_off"], mine["time_off"]


def _fhir_absences(client, provider_id, headers):
    headers = {**headers, "Accept": "application/fhir+json"}
    read = client.get(f"/fhir/PractitionerRole/{provider_id}", headers=headers)
    searched = client.get(f"/fhir/PractitionerRole?_id={provider_id}", headers=headers)
    assert read.status_code == searched.status_code == 200
    return read.get_json()["notAvailable"], searched.get_json()["entry"][0]["resource"]["notAvailable"]


def test_patients_see_when_a_clinician_is_away_but_not_why(client, away):
    provider_id, callers = away
    for time_off in _api_time_off(client, provider_id, callers["patient"]):
        assert len(time_off) == 1 and "reason" not in time_off[0] and time_off[0]["start"]
    for absences in _fhir_absences(client, provider_id, callers["patient"]):
        assert len(absences) == 1 and REASON not in str(absences) and absences[0]["during"]["start"]


def test_staff_and_clinicians_still_see_the_reason(client, away):
    provider_id, callers = away
    for role in ("front_desk", "provider"):
        for time_off in _api_time_off(client, provider_id, callers[role]):
            assert time_off[0]["reason"] == REASON
        for absences in _fhir_absences(client, provider_id, callers[role]):
            assert absences[0]["description"] == REASON
