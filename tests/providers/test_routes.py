from tests import factories

NEW = {"name": "Ana Moreau", "email": "Ana@Clinic.example", "disciplines": ["physiotherapy", "kinesiology"],
       "availability": [{"day": "mon", "start": "08:00", "end": "12:00"},
                        {"day": "mon", "start": "13:00", "end": "17:00"},
                        {"day": "sat", "start": "09:00", "end": "13:00"}]}


def test_create_read_update_list_delete(client, auth):
    headers = auth("admin")
    created = client.post("/api/v1/providers", json=NEW, headers=headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["email"] == "ana@clinic.example"
    assert body["disciplines"] == ["kinesiology", "physiotherapy"]
    assert body["availability"][1] == {"day": "mon", "start": "13:00", "end": "17:00"}

    url = f"/api/v1/providers/{body['id']}"
    assert client.get(url, headers=headers).get_json()["name"] == "Ana Moreau"
    patched = client.patch(url, json={"availability": [{"day": "tue", "start": "10:00", "end": "18:00"}],
                                      "active": False}, headers=headers).get_json()
    assert patched["availability"] == [{"day": "tue", "start": "10:00", "end": "18:00"}]
    assert patched["active"] is False and patched["disciplines"] == ["kinesiology", "physiotherapy"]

    listed = client.get("/api/v1/providers?discipline=kinesiology", headers=headers)
    assert [p["id"] for p in listed.get_json()] == [body["id"]]
    assert '"total": 1' in listed.headers["X-Pagination"]

    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_list_items_carry_id_name_disciplines(client, auth, ctx):
    factories.provider(disciplines=("massage",))
    item = client.get("/api/v1/providers", headers=auth("front_desk")).get_json()[0]
    assert {"id", "name", "disciplines"} <= set(item)


def test_overlapping_windows_are_422_naming_the_window_and_nothing_is_written(client, auth):
    headers = auth("admin")
    bad = dict(NEW, availability=[{"day": "mon", "start": "08:00", "end": "12:00"},
                                  {"day": "mon", "start": "11:30", "end": "14:00"}])
    response = client.post("/api/v1/providers", json=bad, headers=headers)
    assert response.status_code == 422
    assert "availability[1]" in response.get_json()["error"]["fields"]
    assert client.get("/api/v1/providers", headers=headers).get_json() == []


def test_bad_fields_are_named(client, auth):
    response = client.post("/api/v1/providers", headers=auth("admin"), json={
        "name": "", "email": "nope", "disciplines": [], "shoe_size": 9,
        "availability": [{"day": "funday", "start": "25:00", "end": "08:00"}]})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"name", "email", "disciplines", "shoe_size", "availability[0].day", "availability[0].start"} <= set(fields)


def test_end_before_start_in_a_window(client, auth):
    response = client.post("/api/v1/providers", headers=auth("admin"),
                           json=dict(NEW, availability=[{"day": "mon", "start": "12:00", "end": "08:00"}]))
    assert response.status_code == 422
    assert "availability[0].end" in response.get_json()["error"]["fields"]


def test_unknown_discipline_is_named(client, auth):
    response = client.post("/api/v1/providers", headers=auth("admin"), json=dict(NEW, disciplines=["physiotherapy", "yoga"]))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"disciplines[1]": "unknown discipline 'yoga'"}


def test_duplicate_email_is_a_conflict(client, auth):
    headers = auth("admin")
    client.post("/api/v1/providers", json=NEW, headers=headers)
    response = client.post("/api/v1/providers", json=NEW, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"


def test_time_off(client, auth, ctx):
    provider = factories.provider()
    headers = auth("front_desk")
    url = f"/api/v1/providers/{provider.id}/time-off"
    created = client.post(url, headers=headers, json={"start": "2027-01-18T00:00:00-05:00",
                                                      "end": "2027-01-20T00:00:00-05:00", "reason": "Vacation"})
    assert created.status_code == 201
    assert created.get_json()["start"] == "2027-01-18T00:00:00-05:00"
    # An instant given in UTC reads back in the clinic's zone.
    overlapping = client.post(url, headers=headers, json={"start": "2027-01-19T12:00:00Z", "end": "2027-01-21T00:00:00Z"})
    assert overlapping.status_code == 422
    # Found in use: "overlaps time off 3" did not say which absence.
    assert overlapping.get_json()["error"]["fields"]["start"] == (
        "overlaps the time off Mon 18 Jan 2027 to Tue 19 Jan 2027, all day (Vacation)")
    naive = client.post(url, headers=headers, json={"start": "2027-02-01T09:00", "end": "2027-02-01T10:00:00-05:00"})
    assert naive.status_code == 422 and "start" in naive.get_json()["error"]["fields"]
    backwards = client.post(url, headers=headers, json={"start": "2027-02-02T09:00:00-05:00", "end": "2027-02-01T10:00:00-05:00"})
    assert backwards.status_code == 422 and "end" in backwards.get_json()["error"]["fields"]

    listed = client.get(url, headers=headers).get_json()
    assert len(listed) == 1
    assert client.delete(f"{url}/{listed[0]['id']}", headers=headers).status_code == 204
    assert client.get(url, headers=headers).get_json() == []
    assert client.delete(f"{url}/{listed[0]['id']}", headers=headers).status_code == 404


def test_front_desk_cannot_create_providers(client, auth):
    assert client.post("/api/v1/providers", json=NEW, headers=auth("front_desk")).status_code == 403
