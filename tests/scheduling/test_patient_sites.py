"""Single bookings keep to the patient's sites, as the optimizer does (issue 20): a location the patient accepts,
and one location a day for in-person sessions (a video session is no trip). The desk's booking, its moves and
the patient's own moves (all through careplan.scheduling.rooms.place) answer 422 naming location_id."""
import pytest

from tests import factories

MONDAY, TUESDAY = "2027-03-15", "2027-03-16"


@pytest.fixture
def network(app):
    """East and West; massage needs a table (one at each). `east` works at East on Mondays and Tuesdays, `west`
    at West on Mondays and Tuesdays; a physiotherapist at West on Mondays needs no room."""
    with app.app_context():
        east, west = factories.location("East"), factories.location("West")
        factories.room(east.id, name="Table E")
        factories.room(west.id, name="Table W")
        factories.needs_room("massage")

        def at(site, spec="mon-tue 08:00-16:00"):
            return [{**w, "location_id": site.id} for w in factories.windows(spec)]

        mt_east = factories.provider(disciplines=("massage",), hours=None, availability=at(east)).id
        mt_west = factories.provider(disciplines=("massage",), hours=None, availability=at(west)).id
        pt_west = factories.provider(disciplines=("physiotherapy",), hours=None, availability=at(west, "mon 08:00-16:00")).id
        patient = factories.patient(hours="mon-fri 08:00-17:00", accepts_virtual=True).id
        return {"east": east.id, "west": west.id, "mt_east": mt_east, "mt_west": mt_west, "pt_west": pt_west,
                "patient": patient}


def book(client, desk, network, provider, start, discipline="massage", **extra):
    return client.post("/api/v1/appointments", json={
        "patient_id": network["patient"], "provider_id": network[provider], "discipline": discipline,
        "start": start, "minutes": 60, **extra}, headers=desk)


def test_a_site_the_patient_does_not_accept_is_refused_naming_the_location(client, auth, network):
    desk = auth("front_desk")
    client.patch(f"/api/v1/patients/{network['patient']}", json={"location_ids": [network["east"]]},
                 headers=auth("admin"))
    refused = book(client, desk, network, "mt_west", f"{MONDAY}T09:00:00-04:00")
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["fields"]["location_id"] == (
        f"patient {network['patient']} comes only to East, not West")
    assert book(client, desk, network, "mt_east", f"{MONDAY}T09:00:00-04:00").status_code == 201
    # By video the site does not matter.
    video = book(client, desk, network, "mt_west", f"{MONDAY}T11:00:00-04:00", virtual=True)
    assert video.status_code == 201, video.get_json()


def test_one_location_a_day_for_in_person_sessions(client, auth, network):
    desk = auth("front_desk")
    assert book(client, desk, network, "mt_east", f"{MONDAY}T09:00:00-04:00").status_code == 201
    # A session needing no room is still a trip to West.
    refused = book(client, desk, network, "pt_west", f"{MONDAY}T13:00:00-04:00", discipline="physiotherapy")
    assert refused.status_code == 422, refused.get_json()
    message = refused.get_json()["error"]["fields"]["location_id"]
    assert message.startswith(f"patient {network['patient']} comes to East that day (appointment ")
    assert message.endswith("one location a day, not West")
    assert book(client, desk, network, "mt_west", f"{MONDAY}T13:00:00-04:00").status_code == 422
    # Another day, or by video the same day, is fine.
    assert book(client, desk, network, "mt_west", f"{TUESDAY}T13:00:00-04:00").status_code == 201
    video = book(client, desk, network, "pt_west", f"{MONDAY}T13:00:00-04:00", discipline="physiotherapy",
                 virtual=True)
    assert video.status_code == 201, video.get_json()


def test_a_move_to_a_day_at_another_site_is_refused_and_one_that_leaves_it_is_not(client, auth, network):
    desk = auth("front_desk")
    monday = book(client, desk, network, "mt_east", f"{MONDAY}T09:00:00-04:00").get_json()
    tuesday = book(client, desk, network, "mt_west", f"{TUESDAY}T09:00:00-04:00").get_json()
    # West's Tuesday session to Monday afternoon: the patient is at East on Monday.
    refused = client.patch(f"/api/v1/appointments/{tuesday['id']}", json={"start": f"{MONDAY}T13:00:00-04:00"},
                           headers=desk)
    assert refused.status_code == 422, refused.get_json()
    assert "comes to East that day" in refused.get_json()["error"]["fields"]["location_id"]
    # Monday's East session moved to Tuesday with a West therapist: it was the only one there on Monday,
    # so what counts is Tuesday, already at West.
    moved = client.patch(f"/api/v1/appointments/{monday['id']}",
                         json={"start": f"{TUESDAY}T11:00:00-04:00", "provider_id": network["mt_west"]}, headers=desk)
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["location_id"] == network["west"]
    # And the one at East on Tuesday is then refused.
    assert book(client, desk, network, "mt_east", f"{TUESDAY}T14:00:00-04:00").status_code == 422


def test_the_patients_own_move_is_offered_only_times_at_their_sites(client, auth, network, app):
    """The alternatives a patient may move to (careplan.portal) leave out a site they do not accept and a
    second location on a day they already come to one; the move itself would refuse them."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from careplan.extensions import db
    from careplan.portal.service import candidates
    from careplan.scheduling.models import Appointment

    desk = auth("front_desk")
    assert book(client, desk, network, "pt_west", f"{MONDAY}T09:00:00-04:00",
                discipline="physiotherapy").status_code == 201
    moving = book(client, desk, network, "mt_east", f"{TUESDAY}T09:00:00-04:00").get_json()["id"]
    monday = datetime.fromisoformat(f"{MONDAY}T00:00:00").replace(tzinfo=ZoneInfo("America/Toronto"))
    with app.app_context():
        options = candidates(db.session.get(Appointment, moving), monday, monday + timedelta(days=2))
        where = {(o.provider_id, o.start.astimezone(monday.tzinfo).date().isoformat()) for o in options}
    # Monday is a West day for this patient: West's therapist only; Tuesday either.
    assert where == {(network["mt_west"], MONDAY), (network["mt_east"], TUESDAY), (network["mt_west"], TUESDAY)}
    client.patch(f"/api/v1/patients/{network['patient']}", json={"location_ids": [network["west"]]},
                 headers=auth("admin"))
    with app.app_context():
        options = candidates(db.session.get(Appointment, moving), monday, monday + timedelta(days=2))
        assert {o.provider_id for o in options} == {network["mt_west"]}
