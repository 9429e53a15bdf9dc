"""Every resource /fhir returns validates with fhir.resources' R4B models, and carries FHIR's codes."""
from __future__ import annotations

import pytest
from fhir.resources.R4B import get_fhir_model_class

FHIR_JSON = "application/fhir+json"


def valid(resource: dict) -> dict:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def fetch(client, url, headers, status=200) -> dict:
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    return valid(response.get_json())


def entries(bundle: dict) -> list[dict]:
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return [e["resource"] for e in bundle.get("entry", [])]


@pytest.mark.parametrize("resource_type", ["Patient", "Practitioner", "PractitionerRole", "CareTeam", "CarePlan",
                                           "Schedule", "Slot", "Appointment"])
def test_every_search_and_read_validates(client, auth, clinic, resource_type):
    headers = auth("front_desk")
    query = "?start=ge2027-03-08&start=lt2027-03-15" if resource_type == "Slot" else ""
    bundle = fetch(client, f"/fhir/{resource_type}{query}", headers)
    found = entries(bundle)
    assert found and bundle["total"] >= len(found)
    for entry, resource in zip(bundle["entry"], found):
        assert entry["fullUrl"].endswith(f"/fhir/{resource_type}/{resource['id']}")
        assert fetch(client, f"/fhir/{resource_type}/{resource['id']}", headers) == resource


def ids(bundle: dict) -> list[str]:
    return [resource["id"] for resource in entries(bundle)]


def _role(app, role, **links):
    from tests import factories

    with app.app_context():
        return factories.bearer(factories.user(role, **links))


# Code values fhir.resources does not check: each must come from FHIR's value set.
APPOINTMENT_STATUSES = {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
                        "entered-in-error", "checked-in", "waitlist"}
PARTICIPANT_REQUIRED = {"required", "optional", "information-only"}
PARTICIPANT_STATUSES = {"accepted", "declined", "tentative", "needs-action"}
PARTICIPANT_TYPES = {"ADM", "ATND", "CALLBCK", "CON", "DIS", "ESC", "REF", "SPRF", "PPRF", "PART", "translator",
                     "emergency"}
REQUEST_STATUSES = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
ACTIVITY_STATUSES = {"not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled", "stopped",
                     "unknown", "entered-in-error"}
CARE_TEAM_STATUSES = {"proposed", "active", "suspended", "inactive", "entered-in-error"}
SLOT_STATUSES = {"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}
DAYS_OF_WEEK = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
UNITS_OF_TIME = {"s", "min", "h", "d", "wk", "mo", "a"}


def test_code_values_are_fhirs(client, auth, clinic):
    headers = auth("admin")
    get = lambda url: entries(fetch(client, url, headers))  # noqa: E731
    a = clinic.appointments
    appointments = {int(r["id"]): r for r in get("/fhir/Appointment")}
    for resource in appointments.values():
        assert resource["status"] in APPOINTMENT_STATUSES
        patient, practitioner = resource["participant"]
        assert patient["actor"]["reference"].startswith("Patient/") and "type" not in patient
        assert practitioner["actor"]["reference"].startswith("Practitioner/")
        assert {c["code"] for t in practitioner["type"] for c in t["coding"]} <= PARTICIPANT_TYPES
        for participant in resource["participant"]:
            assert participant["required"] in PARTICIPANT_REQUIRED
            assert participant["status"] in PARTICIPANT_STATUSES
    expected = {a.after_dst: ("booked", "needs-action"), a.before_dst: ("booked", "accepted"),
                a.massage: ("fulfilled", "accepted"), a.cancelled: ("cancelled", "declined"),
                a.no_show: ("noshow", "accepted")}
    for appointment_id, (status, patient_status) in expected.items():
        resource = appointments[appointment_id]
        assert (resource["status"], resource["participant"][0]["status"]) == (status, patient_status)
    assert appointments[a.cancelled]["cancelationReason"]["text"] == "Patient has the flu"
    assert appointments[a.before_dst]["basedOn"] == [{"reference": f"CarePlan/{clinic.plan}-phase-1"}]
    assert appointments[a.after_dst]["basedOn"] == [{"reference": f"CarePlan/{clinic.plan}-phase-2"}]
    assert appointments[a.assessment]["basedOn"] == [{"reference": f"CarePlan/{clinic.plan}"}]
    assert "basedOn" not in appointments[a.one_off]

    plans = {r["id"]: r for r in get("/fhir/CarePlan")}
    assert set(plans) == {str(clinic.plan), f"{clinic.plan}-phase-1", f"{clinic.plan}-phase-2"}
    for resource in plans.values():
        assert resource["status"] in REQUEST_STATUSES and resource["intent"] == "plan"
        for activity in resource.get("activity", []):
            if "detail" in activity:
                detail = activity["detail"]
                assert detail["kind"] == "Appointment" and detail["status"] in ACTIVITY_STATUSES
                repeat = detail.get("scheduledTiming", {}).get("repeat", {})
                assert {repeat.get("periodUnit", "wk"), repeat.get("durationUnit", "min")} <= UNITS_OF_TIME
    acute = plans[f"{clinic.plan}-phase-1"]
    assert acute["partOf"] == [{"reference": f"CarePlan/{clinic.plan}"}]
    assert acute["period"] == {"start": "2027-03-01", "end": "2027-03-14"}
    physio_line = acute["activity"][0]["detail"]
    assert physio_line["code"]["coding"][0]["code"] == "physiotherapy"
    assert physio_line["scheduledTiming"]["repeat"] == {
        "boundsPeriod": acute["period"], "frequency": 2, "period": 1, "periodUnit": "wk", "duration": 45,
        "durationUnit": "min"}
    assert physio_line["performer"] == [{"reference": f"Practitioner/{clinic.physio}", "display": "Ana Moreau"}]
    assert {act["reference"]["reference"] for act in acute["activity"] if "reference" in act} == {
        f"Appointment/{i}" for i in (a.before_dst, a.massage, a.cancelled, a.no_show)}
    assert plans[f"{clinic.plan}-phase-2"]["period"] == {"start": "2027-03-15", "end": "2027-04-04"}

    for resource in get("/fhir/CareTeam"):
        assert resource["status"] in CARE_TEAM_STATUSES
        assert [p["role"][0]["coding"][0]["code"] for p in resource["participant"]] == ["massage", "physiotherapy"]
    slots = get("/fhir/Slot?start=ge2027-03-08&start=lt2027-03-13")
    assert {s["status"] for s in slots} <= SLOT_STATUSES
    for role in get("/fhir/PractitionerRole"):
        assert {d for t in role["availableTime"] for d in t["daysOfWeek"]} <= DAYS_OF_WEEK

    capability = fetch(client, "/fhir/metadata", {})
    assert capability["fhirVersion"] == "4.0.1" and capability["kind"] == "instance"
    assert "json" in capability["format"]
    served = {r["type"]: r for r in capability["rest"][0]["resource"]}
    assert {"Patient", "Practitioner", "CareTeam", "CarePlan", "Schedule", "Slot", "Appointment"} <= set(served)
    assert {p["name"] for p in served["Appointment"]["searchParam"]} >= {"patient", "date", "practitioner", "status"}
    for resource in served.values():
        assert {p["type"] for p in resource["searchParam"]} <= {"number", "date", "string", "token", "reference",
                                                                  "composite", "quantity", "uri", "special"}
        assert {i["code"] for i in resource["interaction"]} <= {"read", "search-type"}


def test_appointment_search_by_date_prefixes_status_and_people(client, auth, clinic):
    headers = auth("front_desk")
    a = clinic.appointments
    search = lambda query: [int(i) for i in ids(fetch(client, f"/fhir/Appointment?{query}", headers))]  # noqa: E731
    assert search("date=2027-03-12") == [a.before_dst]
    assert search("date=ge2027-03-12&date=lt2027-03-16") == [a.before_dst, a.after_dst]
    assert search("date=gt2027-03-12") == [a.after_dst, a.one_off]
    assert search("date=le2027-03-03") == [a.assessment, a.massage]
    assert search("date=lt2027-03-03") == [a.assessment]
    assert search("date=eq2027-03") == [a.assessment, a.massage, a.no_show, a.cancelled, a.before_dst,
                                        a.after_dst, a.one_off]
    assert search("date=ge2027-03-15T13:00:00Z&date=lt2027-03-15T13:01:00%2B00:00") == [a.after_dst]
    assert search("date=ge2027-03-15T09:00:00-04:00&date=lt2027-03-15T13:00:01+00:00") == [a.after_dst]
    assert search("status=fulfilled,noshow") == [a.massage, a.no_show]
    assert search(f"practitioner=Practitioner/{clinic.masseur}") == [a.massage, a.cancelled]
    assert search(f"patient={clinic.james}") == [a.one_off]
    assert search(f"patient=Patient/{clinic.martha}&_id={a.one_off},{a.no_show}") == [a.no_show]
    assert search("service-type=urn:careplan:discipline|massage") == [a.massage, a.cancelled]

    first = fetch(client, "/fhir/Appointment?_count=3", headers)
    assert first["total"] == 7 and len(first["entry"]) == 3
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = fetch(client, following.removeprefix("http://localhost"), headers)
    assert [int(i) for i in ids(second)] == [a.cancelled, a.before_dst, a.after_dst]


def test_care_plan_search_by_patient_id_status_and_period(client, auth, clinic):
    headers = auth("front_desk")
    search = lambda query: ids(fetch(client, f"/fhir/CarePlan?{query}", headers))  # noqa: E731
    plan = str(clinic.plan)
    assert search(f"subject=Patient/{clinic.martha}") == [plan, f"{plan}-phase-1", f"{plan}-phase-2"]
    assert search(f"patient={clinic.james}") == []
    assert search(f"_id={plan}-phase-2") == [f"{plan}-phase-2"]
    assert search("date=ge2027-03-15") == [plan, f"{plan}-phase-2"]
    assert search("date=lt2027-03-15") == [plan, f"{plan}-phase-1"]
    assert search("status=active") == [plan, f"{plan}-phase-1", f"{plan}-phase-2"]
    assert fetch(client, f"/fhir/CareTeam/{plan}", headers)["subject"]["reference"] == f"Patient/{clinic.martha}"


def test_slots_are_free_and_busy_time_around_hours_absences_and_appointments(client, auth, clinic, app):
    from careplan.providers.service import add_time_off
    from tests.fhir.conftest import local

    with app.app_context():
        add_time_off(clinic.physio, {"starts_at": local(2027, 3, 12, 14), "ends_at": local(2027, 3, 13)})
    headers = auth("front_desk")
    day = f"schedule=Schedule/{clinic.physio}&start=ge2027-03-12&start=lt2027-03-13"
    slots = entries(fetch(client, f"/fhir/Slot?{day}", headers))
    assert [(s["status"], s["start"][11:16], s["end"][11:16]) for s in slots] == [
        ("free", "08:00", "09:00"), ("busy", "09:00", "09:45"), ("free", "09:45", "14:00"),
        ("busy-unavailable", "14:00", "16:00")]
    assert slots[1]["start"] == "2027-03-12T09:00:00-05:00"
    assert ids(fetch(client, f"/fhir/Slot?{day}&status=busy", headers)) == [slots[1]["id"]]
    after_change = entries(fetch(client, f"/fhir/Slot?schedule={clinic.physio}&start=2027-03-15&status=busy",
                                 headers))
    assert [s["start"] for s in after_change] == ["2027-03-15T09:00:00-04:00"]
    massage = entries(fetch(client, "/fhir/Slot?specialty=massage&start=ge2027-03-08&start=lt2027-03-09", headers))
    assert {s["schedule"]["reference"] for s in massage} == {f"Schedule/{clinic.masseur}"}
    too_wide = fetch(client, "/fhir/Slot?start=ge2027-01-01&start=lt2027-03-01", headers, 400)
    assert too_wide["issue"][0]["code"] == "too-costly"
    fetch(client, f"/fhir/Slot/{clinic.physio}-202703121300-202703121301", headers, 404)


def test_slots_of_two_windows_a_day_and_two_disciplines(client, auth, app):
    """Each window is cut on its own: windows that touch stay two free Slots, an appointment across their
    boundary takes time from both; a clinician of two disciplines is found by either, their free time
    offers both, and the search reads only the day's windows."""
    from tests import factories
    from tests.fhir.conftest import local

    headers = auth("front_desk")
    with app.app_context():
        both = factories.provider(disciplines=("physiotherapy", "massage"),
                                  hours="fri 08:00-12:00, fri 12:00-16:00, mon 07:00-09:00")
        factories.appointment(provider=both, starts_at=local(2027, 3, 12, 9), discipline="physiotherapy")
        factories.appointment(provider=both, starts_at=local(2027, 3, 12, 11, 30), discipline="massage")
        factories.appointment(provider=both, starts_at=local(2027, 3, 19, 9), discipline="physiotherapy")
        provider_id = both.id

    def day(date: str, extra: str = "") -> list[tuple]:
        bundle = fetch(client, f"/fhir/Slot?schedule={provider_id}&start={date}{extra}", headers)
        assert bundle["total"] == len(entries(bundle))
        return [(s["status"], s["start"][11:16], s["end"][11:16], [c["coding"][0]["code"] for c in s["specialty"]])
                for s in entries(bundle)]

    assert day("2027-03-12") == [
        ("free", "08:00", "09:00", ["massage", "physiotherapy"]), ("busy", "09:00", "09:45", ["physiotherapy"]),
        ("free", "09:45", "11:30", ["massage", "physiotherapy"]), ("busy", "11:30", "12:15", ["massage"]),
        ("free", "12:15", "16:00", ["massage", "physiotherapy"])]
    assert day("2027-03-19") == [
        ("free", "08:00", "09:00", ["massage", "physiotherapy"]), ("busy", "09:00", "09:45", ["physiotherapy"]),
        ("free", "09:45", "12:00", ["massage", "physiotherapy"]),
        ("free", "12:00", "16:00", ["massage", "physiotherapy"])]
    assert day("2027-03-12", "&specialty=massage") == [
        ("free", "08:00", "09:00", ["massage", "physiotherapy"]),
        ("free", "09:45", "11:30", ["massage", "physiotherapy"]), ("busy", "11:30", "12:15", ["massage"]),
        ("free", "12:15", "16:00", ["massage", "physiotherapy"])]
    assert day("2027-03-15") == [("free", "07:00", "09:00", ["massage", "physiotherapy"])]


def test_each_caller_sees_only_what_they_may(client, clinic, app):
    a = clinic.appointments
    martha = _role(app, "patient", patient_id=clinic.martha)
    physio = _role(app, "provider", provider_id=clinic.physio)
    outsider = _role(app, "provider", provider_id=clinic.outsider)

    def visible(url, headers):
        return ids(fetch(client, url, headers))

    assert visible("/fhir/Patient", martha) == [str(clinic.martha)]
    fetch(client, f"/fhir/Patient/{clinic.james}", martha, 404)
    assert {int(i) for i in visible("/fhir/Appointment", martha)} == set(vars(a).values()) - {a.one_off}
    fetch(client, f"/fhir/Appointment/{a.one_off}", martha, 404)
    assert len(visible("/fhir/CarePlan", martha)) == 3
    assert visible("/fhir/Schedule", martha) == [] and visible("/fhir/Slot", martha) == []
    assert len(visible("/fhir/Practitioner", martha)) == 3

    assert visible("/fhir/Patient", physio) == [str(clinic.martha)]
    # On Martha's team: the massage therapist's sessions with her are part of the coordinated plan.
    assert str(a.massage) in visible("/fhir/Appointment", physio)
    assert str(a.one_off) not in visible("/fhir/Appointment", physio)
    assert visible("/fhir/Schedule", physio) == [str(clinic.physio)]
    fetch(client, f"/fhir/Schedule/{clinic.masseur}", physio, 404)
    fetch(client, f"/fhir/CareTeam/{clinic.plan}", physio)

    assert visible("/fhir/Patient", outsider) == [str(clinic.james)]
    fetch(client, f"/fhir/CarePlan/{clinic.plan}-phase-1", outsider, 404)
    fetch(client, f"/fhir/CareTeam/{clinic.plan}", outsider, 404)


def test_errors_are_operation_outcomes(client, auth, clinic):
    headers = auth("front_desk")
    anonymous = client.get("/fhir/Patient")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
    valid(anonymous.get_json())
    for url, status in (("/fhir/Patient/999", 404), (f"/fhir/Patient/{clinic.martha},{clinic.james}", 404),
                        ("/fhir/CarePlan/1-PHASE-1", 404), ("/fhir/Patient/not-a-number", 404),
                        ("/fhir/Encounter", 404), ("/fhir/Patient/1/_history", 404),
                        ("/fhir/Patient?family=Kowalski", 400), ("/fhir/Appointment?date=tomorrow", 400),
                        ("/fhir/Appointment?date=ne2027-03-01", 400), ("/fhir/Appointment?date=2027-03-01T09:00", 400),
                        ("/fhir/Appointment?patient=Practitioner/1", 400), ("/fhir/Patient?_count=-1", 400),
                        ("/fhir/Patient?_format=xml", 406), ("/fhir/Patient?_format=application/fhir%2Bxml", 406)):
        outcome = fetch(client, url, headers, status)
        assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["severity"] == "error"
    fetch(client, "/fhir/Patient", {**headers, "Accept": "application/fhir+xml"}, 406)
    fetch(client, "/fhir/Patient?_format=json", {**headers, "Accept": "application/fhir+json"})
    posted = client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=headers)
    assert posted.status_code == 405 and posted.mimetype == FHIR_JSON and "GET" in posted.headers["Allow"]
    valid(posted.get_json())


def test_an_unexpected_error_is_a_500_operation_outcome_without_internals(client, auth, monkeypatch, caplog):
    from dataclasses import replace

    from careplan.fhir.service import RESOURCE_TYPES

    def explode(query, user):
        raise RuntimeError("secret internals")

    monkeypatch.setitem(RESOURCE_TYPES, "Patient", replace(RESOURCE_TYPES["Patient"], search=explode))
    outcome = fetch(client, "/fhir/Patient", auth("admin"), 500)
    assert outcome["issue"][0]["code"] == "exception" and "secret" not in str(outcome)
    assert "secret internals" in caplog.text


def test_a_day_of_slots_takes_the_same_statements_for_three_clinicians_or_twelve(client, auth, app):
    """Providers, their hours, disciplines and absences, and all their appointments: one statement each."""
    from datetime import datetime, timezone

    from sqlalchemy import event

    from careplan.extensions import db
    from tests import factories

    headers = auth("front_desk")
    day = "start=ge2027-03-12&start=lt2027-03-13"

    def add_clinicians(count: int) -> None:
        with app.app_context():
            for _ in range(count):
                provider = factories.provider(hours="mon-fri 08:00-16:00")
                factories.appointment(provider=provider, starts_at=datetime(2027, 3, 12, 15, tzinfo=timezone.utc))

    def statements() -> tuple[int, int]:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            bundle = fetch(client, f"/fhir/Slot?{day}&_count=500", headers)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen), sum(1 for s in entries(bundle) if s["status"] == "busy")

    add_clinicians(3)
    few, busy_few = statements()
    add_clinicians(9)
    many, busy_many = statements()
    assert (busy_few, busy_many) == (3, 12)
    assert many == few


def test_slot_pages_hold_every_slot_once_in_start_order(client, auth, app):
    """The search pages the day's slots of every clinician: page by page, each slot once, by start, and the
    total is the whole day's."""
    from datetime import datetime, timezone

    from tests import factories

    headers = auth("front_desk")
    with app.app_context():
        for n in range(5):
            provider = factories.provider(hours="mon-fri 08:00-16:00")
            factories.appointment(provider=provider, starts_at=datetime(2027, 3, 12, 14 + n, tzinfo=timezone.utc))
    day = "start=ge2027-03-12&start=lt2027-03-13"
    whole = fetch(client, f"/fhir/Slot?{day}&_count=500", headers)
    every = ids(whole)
    paged = []
    for offset in range(0, len(every), 4):
        bundle = fetch(client, f"/fhir/Slot?{day}&_count=4&_offset={offset}", headers)
        assert bundle["total"] == whole["total"] == len(every)
        paged += entries(bundle)
    assert [s["id"] for s in paged] == every and len(set(every)) == len(every) >= 15
    starts = [datetime.fromisoformat(s["start"]) for s in paged]
    assert starts == sorted(starts)
