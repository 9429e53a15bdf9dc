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
