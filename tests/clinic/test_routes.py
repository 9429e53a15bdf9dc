def test_core_and_extra_disciplines_are_data(client, auth):
    codes = {d["code"]: d for d in client.get("/api/v1/disciplines", headers=auth("patient")).get_json()}
    assert {"physiotherapy", "massage", "chiropractic", "psychotherapy", "nutrition"} <= {
        c for c, d in codes.items() if d["core"]}
    assert {"kinesiology", "acupuncture", "naturopathy", "mental_performance"} <= set(codes)


def test_admin_adds_a_discipline(client, auth):
    headers = auth("admin")
    response = client.post("/api/v1/disciplines", headers=headers, json={
        "code": "yoga_therapy", "name": "Yoga therapy", "practitioner_title": "yoga therapist"})
    assert response.status_code == 201
    again = client.post("/api/v1/disciplines", headers=headers, json={
        "code": "yoga_therapy", "name": "Yoga therapy", "practitioner_title": "yoga therapist"})
    assert again.status_code == 409


def test_clinic_timezone_defaults_to_the_environment_then_can_be_set(client, auth):
    headers = auth("admin")
    assert client.get("/api/v1/clinic", headers=headers).get_json()["timezone"] == "America/Toronto"
    bad = client.patch("/api/v1/clinic", headers=headers, json={"timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and "timezone" in bad.get_json()["error"]["fields"]
    good = client.patch("/api/v1/clinic", headers=headers, json={"timezone": "America/Vancouver", "name": "West"})
    assert good.get_json()["timezone"] == "America/Vancouver"


def test_a_slot_change_moves_the_grid_not_the_session_lengths(client, auth, app):
    from tests import factories

    with app.app_context():
        provider_id = factories.provider(hours="mon-fri 08:00-16:00").id
        patient_id = factories.patient().id
    admin, desk = auth("admin"), auth("front_desk")
    assert client.patch("/api/v1/clinic", headers=admin, json={"slot_minutes": 30}).status_code == 200
    visit = {"patient_id": patient_id, "provider_id": provider_id, "discipline": "physiotherapy", "minutes": 45}
    # 45 minutes is no multiple of the 30-minute grid and still a session; starts follow the new grid.
    booked = client.post("/api/v1/appointments", headers=desk, json={**visit, "start": "2027-03-15T09:30:00-04:00"})
    assert booked.status_code == 201, booked.get_json()
    off_grid = client.post("/api/v1/appointments", headers=desk, json={**visit, "start": "2027-03-15T11:15:00-04:00"})
    assert off_grid.status_code == 422
    assert "30-minute grid" in off_grid.get_json()["error"]["fields"]["start"]
    slots = client.get(f"/api/v1/providers/{provider_id}/free-slots", headers=desk, query_string={
        "start": "2027-03-15T13:00:00-04:00", "end": "2027-03-15T16:00:00-04:00", "minutes": 50}).get_json()
    assert [s["start"][11:16] for s in slots] == ["13:00", "13:30", "14:00", "14:30", "15:00"]
    assert client.patch("/api/v1/clinic", headers=admin, json={"slot_minutes": 25}).status_code == 422
