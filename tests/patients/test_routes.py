from tests import factories

NEW = {"name": "Martha Kowalski", "email": "martha@mail.example", "phone": "416-555-0101",
       "date_of_birth": "1968-04-12", "availability": [{"day": "wed", "start": "09:00", "end": "13:00"}]}


def test_create_read_update_search_delete(client, auth):
    headers = auth("front_desk")
    created = client.post("/api/v1/patients", json=NEW, headers=headers)
    assert created.status_code == 201, created.get_json()
    patient = created.get_json()
    assert patient["reminder_opt_out"] is False
    url = f"/api/v1/patients/{patient['id']}"
    assert client.patch(url, json={"reminder_opt_out": True}, headers=headers).get_json()["reminder_opt_out"] is True

    found = client.get("/api/v1/patients?q=kowal", headers=headers).get_json()
    assert [p["id"] for p in found] == [patient["id"]]
    assert {"id", "name", "email"} <= set(found[0])
    assert client.get("/api/v1/patients?q=nobody", headers=headers).get_json() == []

    assert client.delete(url, headers=headers).status_code == 403  # the front desk does not delete records
    assert client.delete(url, headers=auth("admin")).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_future_birth_date_is_refused(client, auth):
    response = client.post("/api/v1/patients", json=dict(NEW, date_of_birth="2999-01-01"), headers=auth("front_desk"))
    assert response.status_code == 422
    assert "date_of_birth" in response.get_json()["error"]["fields"]


def test_patch_with_bad_window_changes_nothing(client, auth, ctx):
    patient = factories.patient(hours="mon 09:00-12:00")
    headers = auth("front_desk")
    url = f"/api/v1/patients/{patient.id}"
    response = client.patch(url, headers=headers, json={
        "name": "Renamed", "availability": [{"day": "tue", "start": "09:00", "end": "12:00"},
                                            {"day": "tue", "start": "10:00", "end": "11:00"}]})
    assert response.status_code == 422
    after = client.get(url, headers=headers).get_json()
    assert after["name"] == patient.name
    assert after["availability"] == [{"day": "mon", "start": "09:00", "end": "12:00"}]


def test_paging_header(client, auth, ctx):
    for _ in range(3):
        factories.patient()
    response = client.get("/api/v1/patients?page=2&page_size=2", headers=auth("front_desk"))
    assert len(response.get_json()) == 1
    assert '"total": 3' in response.headers["X-Pagination"]


def test_a_page_past_the_end_is_empty_even_when_huge(client, auth, ctx):
    factories.patient()
    headers = auth("front_desk")
    assert client.get("/api/v1/patients?page=5", headers=headers).get_json() == []
    assert client.get(f"/api/v1/patients?page={10**40}", headers=headers).get_json() == []


def test_a_provider_lists_and_reads_only_their_care_teams_patients(app, client, auth):
    with app.app_context():
        provider_id = factories.provider().id
        mine, theirs = factories.patient(name="Mine Ours"), factories.patient(name="Theirs Other")
        mine_id, theirs_id = mine.id, theirs.id
        factories.appointment(mine_id, provider_id)
    headers = auth("provider", provider_id=provider_id)
    assert [p["id"] for p in client.get("/api/v1/patients", headers=headers).get_json()] == [mine_id]
    assert client.get(f"/api/v1/patients/{mine_id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/patients/{theirs_id}", headers=headers).status_code == 404
    own = auth("patient", patient_id=mine_id)
    assert client.get(f"/api/v1/patients/{mine_id}", headers=own).status_code == 200
    assert client.get(f"/api/v1/patients/{theirs_id}", headers=own).status_code == 404
    assert client.get("/api/v1/patients", headers=own).status_code == 403


def test_a_patients_record_may_lower_the_clinics_daily_session_limit_not_raise_it(client, auth, app):
    with app.app_context():
        patient = factories.patient()
        patient_id, name = patient.id, patient.name
    desk, admin = auth("front_desk"), auth("admin")
    url = f"/api/v1/patients/{patient_id}"
    assert client.get(url, headers=desk).get_json()["max_sessions_per_day"] is None
    assert client.get("/api/v1/clinic", headers=admin).get_json()["max_sessions_per_day"] == 3
    lowered = client.patch(url, headers=desk, json={"max_sessions_per_day": 2})
    assert lowered.status_code == 200 and lowered.get_json()["max_sessions_per_day"] == 2
    raised = client.patch(url, headers=desk, json={"max_sessions_per_day": 4, "name": "Renamed"})
    assert raised.status_code == 422
    assert raised.get_json()["error"]["fields"] == {"max_sessions_per_day": "at most 3, the clinic's limit"}
    assert client.get(url, headers=desk).get_json()["name"] == name
    assert client.patch("/api/v1/clinic", headers=admin, json={"max_sessions_per_day": 4}).status_code == 200
    assert client.patch(url, headers=desk, json={"max_sessions_per_day": 4}).status_code == 200
    assert client.patch(url, headers=desk, json={"max_sessions_per_day": None}).get_json()[
        "max_sessions_per_day"] is None
    assert client.patch("/api/v1/clinic", headers=admin, json={"max_sessions_per_day": 0}).status_code == 422
