"""Two people editing the same plan, patient or provider do not overwrite each other silently.

Reads carry an ETag; a change with If-Match is refused with 412 when the record changed since; a writer who
read the row just before another committed is stopped by the database's version check (409, never a 500).
"""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm.exc import StaleDataError

from careplan.extensions import db
from careplan.patients import service as patients
from careplan.patients.models import Patient
from careplan.plans import service as plans
from careplan.plans.models import CarePlan
from careplan.providers.models import Provider
from tests import factories
from tests.conftest import ON_POSTGRES


@pytest.fixture
def records(app):
    """url and a change for each kind of record two people may edit at once."""
    with app.app_context():
        factories.protocols()
        physio = factories.provider(disciplines=("physiotherapy",))
        plan = factories.plan()
        return {
            "patient": (f"/api/v1/patients/{plan.patient_id}", {"phone": "416-555-0199"}),
            "provider": (f"/api/v1/providers/{physio.id}", {"phone": "416-555-0198"}),
            "plan": (f"/api/v1/plans/{plan.id}", {"start_date": "2027-01-11", "reason": "Away the first week."}),
        }


KINDS = ("patient", "provider", "plan")


def _editor(auth, kind):
    return auth("admin") if kind == "provider" else auth("front_desk")


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_carries_an_etag_and_a_matching_if_match_applies_the_change(client, auth, records, kind):
    url, change = records[kind]
    headers = _editor(auth, kind)
    read = client.get(url, headers=headers)
    assert read.status_code == 200 and read.headers.get("ETag")

    changed = client.patch(url, json=change, headers={**headers, "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200, changed.get_json()
    assert changed.headers["ETag"] != read.headers["ETag"]
    assert client.get(url, headers=headers).headers["ETag"] == changed.headers["ETag"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_change_made_from_a_stale_read_is_refused_with_412_and_changes_nothing(client, auth, records, kind):
    url, change = records[kind]
    headers = _editor(auth, kind)
    first_read = client.get(url, headers=headers).headers["ETag"]
    someone_else = client.patch(url, json=change, headers={**headers, "If-Match": first_read})
    assert someone_else.status_code == 200
    current = client.get(url, headers=headers).get_json()

    stale = client.patch(url, json={**change, "phone": "000"} if kind != "plan" else
                         {"start_date": "2027-02-01", "reason": "Later."}, headers={**headers, "If-Match": first_read})
    assert stale.status_code == 412
    error = stale.get_json()["error"]
    assert error["code"] == "precondition_failed" and "changed" in error["message"]
    assert error["current_version"] == current["version"]
    assert client.get(url, headers=headers).get_json() == current


@pytest.mark.parametrize("kind", KINDS)
def test_an_if_match_that_is_not_one_of_ours_never_matches(client, auth, records, kind):
    url, change = records[kind]
    headers = _editor(auth, kind)
    for tag in ('"something-else"', 'W/"weak"', 'garbage'):
        assert client.patch(url, json=change, headers={**headers, "If-Match": tag}).status_code == 412
    assert client.patch(url, json=change, headers={**headers, "If-Match": "*"}).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_a_change_without_if_match_is_accepted(client, auth, records, kind):
    """Integrations that never read ETags keep working; only those that send If-Match are protected."""
    url, change = records[kind]
    assert client.patch(url, json=change, headers=_editor(auth, kind)).status_code == 200


def test_an_availability_only_change_moves_the_patients_etag(client, auth, records):
    url, _ = records["patient"]
    headers = auth("front_desk")
    before = client.get(url, headers=headers).headers["ETag"]
    changed = client.patch(url, json={"availability": [{"day": "tue", "start": "08:00", "end": "10:00"}]},
                           headers={**headers, "If-Match": before})
    assert changed.status_code == 200 and changed.headers["ETag"] != before
    assert client.patch(url, json={"phone": "1"}, headers={**headers, "If-Match": before}).status_code == 412


def test_time_off_moves_the_providers_etag(client, auth, records):
    url, _ = records["provider"]
    headers = auth("admin")
    before = client.get(url, headers=headers).headers["ETag"]
    start = datetime(2027, 5, 3, 9, tzinfo=timezone.utc)
    added = client.post(f"{url}/time-off", json={"start": start.isoformat(), "end": (start + timedelta(hours=8))
                                                  .isoformat()}, headers=headers)
    assert added.status_code == 201
    after_adding = client.get(url, headers=headers).headers["ETag"]
    assert after_adding != before
    assert client.patch(url, json={"phone": "1"}, headers={**headers, "If-Match": before}).status_code == 412
    client.delete(f"{url}/time-off/{added.get_json()['id']}", headers=headers)
    assert client.get(url, headers=headers).headers["ETag"] != after_adding


def test_a_status_or_phase_change_needs_the_plans_current_etag(client, auth, app, records):
    url, _ = records["plan"]
    desk = auth("front_desk")
    drafted = client.get(url, headers=desk).headers["ETag"]
    with app.app_context():
        plan = plans.get_plan(int(url.rsplit("/", 1)[1]))
        plans.mark_booked(plan, caller=factories.CALLER)
        db.session.commit()
    start = {"status": "active", "reason": "First visit."}
    assert client.post(f"{url}/status", json=start, headers={**desk, "If-Match": drafted}).status_code == 412
    booked = client.get(url, headers=desk).headers["ETag"]
    started = client.post(f"{url}/status", json=start, headers={**desk, "If-Match": booked})
    assert started.status_code == 200 and started.headers["ETag"] != booked

    extend = {"change": "extend", "weeks": 1, "reason": "Flare-up."}
    clinician = auth("admin")
    phase = f"{url}/phases/acute"
    assert client.patch(phase, json=extend, headers={**clinician, "If-Match": booked}).status_code == 412
    extended = client.patch(phase, json=extend, headers={**clinician, "If-Match": started.headers["ETag"]})
    assert extended.status_code == 200 and extended.headers["ETag"] != started.headers["ETag"]


def test_a_delete_from_a_stale_read_is_refused(client, auth, records):
    url, change = records["patient"]
    stale = client.get(url, headers=auth("front_desk")).headers["ETag"]
    client.patch(url, json=change, headers=auth("front_desk"))
    assert client.delete(url, headers={**auth("admin"), "If-Match": stale}).status_code == 412
    assert client.get(url, headers=auth("front_desk")).status_code == 200


@pytest.mark.parametrize("kind, model", [("patient", Patient), ("provider", Provider), ("plan", CarePlan)])
def test_a_writer_overtaken_at_the_database_gets_409_and_nothing_is_saved(client, auth, app, records,
                                                                          writer_in_between, kind, model):
    url, change = records[kind]
    headers = _editor(auth, kind)
    before = client.get(url, headers=headers).get_json()
    writer_in_between.append((model, before["id"]))
    response = client.patch(url, json=change, headers=headers)
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "changed_meanwhile" and "nothing was saved" in error["message"]
    after = client.get(url, headers=headers).get_json()
    assert {k: v for k, v in after.items() if k not in ("version", "updated_at")} == \
        {k: v for k, v in before.items() if k not in ("version", "updated_at")}


@pytest.mark.skipif(not ON_POSTGRES, reason="on SQLite BEGIN IMMEDIATE makes the second writer wait for the first")
def test_two_transactions_racing_for_one_row_the_later_writer_is_stopped_by_the_database(app):
    with app.app_context():
        patient_id = factories.patient().id
    with app.app_context():
        read_first = patients.get_patient(patient_id)
        assert read_first.version == 1
        with app.app_context():
            # Another connection changes the row and commits while the first transaction still holds version 1.
            patients.update_patient(patient_id, {"phone": "416-555-0111"}, caller=factories.CALLER)
        with pytest.raises(StaleDataError):
            patients.update_patient(patient_id, {"phone": "416-555-0222"}, caller=factories.CALLER)
        db.session.rollback()
        assert patients.get_patient(patient_id).phone == "416-555-0111"
