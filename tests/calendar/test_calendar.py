"""The calendar service and its JSON endpoints: the day grid's columns and cells, a bounded number of
statements, the feed for the calendar component, check-in, patient search, ranked alternatives."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import event

from careplan.calendar import service as calendar
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.extensions import db
from tests import factories

MONDAY = date(2027, 3, 1)


def _at(day, clock):
    from datetime import time
    return clinic.local_datetime(day, time.fromisoformat(clock))


class Statements:
    def __init__(self):
        self.count = 0

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args):
        self.count += 1


def _day_with(appointments: int) -> date:
    providers = [factories.provider(hours="mon-fri 08:00-18:00") for _ in range(3)]
    for i in range(appointments):
        factories.appointment(factories.patient(), providers[i % 3], _at(MONDAY, "08:00") + timedelta(minutes=60 * (i // 3)))
    db.session.remove()
    return MONDAY


def test_the_day_grid_costs_the_same_statements_for_few_or_many_appointments(ctx):
    _day_with(3)
    with Statements() as few:
        grid = calendar.day_grid(MONDAY)
        [grid.cells(c) for c in grid.columns]
    assert sum(len(c.appointments) for c in grid.columns) == 3
    _day_with(27)
    db.session.remove()
    with Statements() as many:
        grid = calendar.day_grid(MONDAY)
        [grid.cells(c) for c in grid.columns]
    assert sum(len(c.appointments) for c in grid.columns) == 30
    assert many.count == few.count <= 12


def test_cells_show_booked_away_closed_and_free(ctx):
    ana = factories.provider(name="Ana", hours="mon 09:00-12:00")
    factories.appointment(factories.patient(), ana, _at(MONDAY, "09:00"), minutes=45)
    from careplan.providers.models import ProviderTimeOff
    db.session.add(ProviderTimeOff(provider_id=ana.id, starts_at=_at(MONDAY, "11:00"), ends_at=_at(MONDAY, "11:30")))
    db.session.commit()
    grid = calendar.day_grid(MONDAY)
    [column] = grid.columns
    states = [(clinic.to_local(c.start).strftime("%H:%M"), c.state) for c in grid.cells(column)]
    assert states[0] == ("09:00", "appointment") and grid.cells(column)[0].rows == 3
    assert ("09:15", "busy") in states and ("09:45", "free") in states
    assert ("11:00", "away") in states and ("11:30", "free") in states
    # Nobody works on Sunday: no column at all.
    assert calendar.day_grid(MONDAY + timedelta(days=6)).columns == []


def test_visits_are_numbered_per_patient_and_day(ctx):
    """"visit 2" is a patient's second trip of the day: never the clinic's second trip, nor the week's."""
    ana = factories.provider(name="Ana", hours="mon-tue 08:00-20:00")
    ben = factories.provider(name="Ben", disciplines=("massage",), hours="mon-tue 08:00-20:00")
    martha, james = factories.patient(name="Martha"), factories.patient(name="James")
    # Martha: one trip in the morning (two sessions), another in the evening; James: one trip of two sessions.
    m1 = factories.appointment(martha, ana, _at(MONDAY, "09:00"), minutes=45)
    m2 = factories.appointment(martha, ben, _at(MONDAY, "09:45"), minutes=60)
    m3 = factories.appointment(martha, ana, _at(MONDAY, "17:00"), minutes=45)
    j1 = factories.appointment(james, ana, _at(MONDAY, "10:00"), minutes=45)
    j2 = factories.appointment(james, ben, _at(MONDAY, "11:00"), minutes=45)
    tuesday = factories.appointment(martha, ana, _at(MONDAY + timedelta(days=1), "09:00"), minutes=45)
    visits = calendar.day_grid(MONDAY).visits
    assert (visits[m1.id], visits[m2.id], visits[m3.id]) == ((1, 2), (1, 2), (2, 1))
    assert (visits[j1.id], visits[j2.id]) == ((1, 2), (1, 2))
    week = calendar.week_grid(ana.id, MONDAY)
    assert week.days[0].visits[m3.id] == (2, 1) and week.days[1].visits[tuesday.id] == (1, 1)


def test_the_feed_gives_clinic_wall_clock_times_visits_and_shaded_hours(client, app, auth):
    with app.app_context():
        ana = factories.provider(name="Ana", hours="mon 09:00-12:00")
        ben = factories.provider(name="Ben", disciplines=("massage",), hours="mon 10:00-17:00")
        martha = factories.patient(name="Martha")
        factories.appointment(martha, ana, _at(MONDAY, "09:00"), minutes=45)
        factories.appointment(martha, ben, _at(MONDAY, "10:00"), minutes=60)
    feed = client.get(f"/api/v1/calendar/day?date={MONDAY.isoformat()}", headers=auth("front_desk")).json
    assert [r["title"] for r in feed["resources"]] == ["Ana", "Ben"]
    visits = [e for e in feed["events"] if e["kind"] == "appointment"]
    assert [e["start"] for e in visits] == ["2027-03-01T09:00:00", "2027-03-01T10:00:00"]
    assert visits[0]["starts_at"] == "2027-03-01T09:00:00-05:00"
    assert {(e["visit"], e["visit_sessions"]) for e in visits} == {(1, 2)}
    assert visits[0]["session"] == "single visit" and visits[0]["editable"] is True
    closed = [(e["resource_id"], e["start"], e["end"]) for e in feed["events"] if e["kind"] == "closed"]
    assert (feed["resources"][0]["id"], "2027-03-01T12:00:00", "2027-03-01T17:00:00") in closed
    bad = client.get("/api/v1/calendar/day?date=yesterday", headers=auth("front_desk"))
    assert bad.status_code == 422 and "date" in bad.json["error"]["fields"]
    assert client.get("/api/v1/calendar/day", headers=auth("patient")).status_code == 403
    week = client.get(f"/api/v1/calendar/week?provider_id={feed['resources'][0]['id']}&date=2027-03-03",
                      headers=auth("front_desk")).json
    assert week["date"] == "2027-03-01" and len([e for e in week["events"] if e["kind"] == "appointment"]) == 1


def test_check_in_only_on_the_day_and_once(client, app, auth):
    with app.app_context():
        ana = factories.provider(hours="mon-sun 00:00-23:55")
        now = utcnow().replace(second=0, microsecond=0)
        today = factories.appointment(factories.patient(), ana, now + timedelta(minutes=1)).id
        next_week = factories.appointment(factories.patient(), ana, now + timedelta(days=7)).id
    desk = auth("front_desk")
    first = client.post(f"/api/v1/appointments/{today}/check-in", headers=desk)
    assert first.status_code == 200 and first.json["arrived_at"] and first.json["status"] == "booked"
    again = client.post(f"/api/v1/appointments/{today}/check-in", headers=desk)
    assert again.json["arrived_at"] == first.json["arrived_at"]
    early = client.post(f"/api/v1/appointments/{next_week}/check-in", headers=desk)
    assert early.status_code == 422 and "arrived_at" in early.json["error"]["fields"]
    assert client.post(f"/api/v1/appointments/{today}/check-in", headers=auth("patient")).status_code in (403, 404)


def test_a_forgiving_patient_search(ctx):
    factories.patient(name="Martha Kowalski")
    factories.patient(name="James O'Neill")
    factories.patient(name="Linh Tran", phone="416-555-9876")
    assert [p.name for p in calendar.find_patients("kowalsky")][:1] == ["Martha Kowalski"]
    assert [p.name for p in calendar.find_patients("oneil")][:1] == ["James O'Neill"]
    assert [p.name for p in calendar.find_patients("555-9876")] == ["Linh Tran"]
    assert calendar.find_patients("   ") == []


def test_unscheduled_sessions_of_a_plan_are_listed_and_counted(ctx):
    ana = factories.provider()
    martha = factories.patient()
    start = clinic.to_local(utcnow()).date() + timedelta(days=14)
    plan = factories.care_plan(martha, {"physiotherapy": ana}, start=start)
    sessions = calendar.unscheduled_sessions(martha.id)
    assert {(s["phase"], s["week"], s["missing"]) for s in sessions} == {("acute", 0, 2), ("acute", 1, 2)}
    factories.appointment(martha, ana, _at(start, "10:00"), plan_id=plan.id, phase_name="acute", plan_week=0)
    sessions = calendar.unscheduled_sessions(martha.id)
    assert {(s["week"], s["missing"]) for s in sessions} == {(0, 1), (1, 2)}
    assert [(p.id, n) for p, n in calendar.plans_with_unscheduled_sessions()] == [(plan.id, 3)]


def test_a_cancelled_opening_assessment_is_a_session_not_booked(ctx):
    """Found in use: Linh cancelled her plan's assessment; Needs attention said nothing while her treatments went
    on without one."""
    ana = factories.provider()
    linh = factories.patient(name="Linh Tran")
    start = clinic.to_local(utcnow()).date() + timedelta(days=14)
    plan = factories.care_plan(linh, {"physiotherapy": ana}, start=start, assessment="physiotherapy",
                               phases=(("acute", 1, "Calm the irritation", [("physiotherapy", 1, 1, 45)]),))
    first = factories.appointment(linh, ana, _at(start, "09:00"), minutes=60, plan_id=plan.id, kind="assessment")
    factories.appointment(linh, ana, _at(start + timedelta(days=2), "10:00"), plan_id=plan.id, phase_name="acute",
                          plan_week=0)
    assert calendar.unscheduled_sessions(linh.id) == []
    first.status = "cancelled"
    db.session.commit()
    [missing] = calendar.unscheduled_sessions(linh.id)
    assert (missing["kind"], missing["discipline"], missing["minutes"], missing["phase"]) == (
        "assessment", "physiotherapy", 60, None)
    assert [(p.id, n) for p, n in calendar.plans_with_unscheduled_sessions()] == [(plan.id, 1)]
    [item] = [i for i in calendar.needs_attention() if i.kind == "unscheduled"]
    assert item.title == "Linh Tran: 1 session not booked"


def test_needs_attention_lists_drafted_plans_and_groups_an_absences_appointments(ctx):
    from careplan.providers import service as providers

    factories.protocols()
    ana = factories.provider(name="Ana Moreau", hours="mon-sun 07:00-21:00")
    drafted = factories.plan(factories.patient(name="Aisha Mohammed").id)
    soon = clinic.to_local(utcnow()).date() + timedelta(days=2)
    first = factories.appointment(factories.patient(name="Linh Tran"), ana, _at(soon, "09:00"))
    factories.appointment(factories.patient(name="Noah Smith"), ana, _at(soon, "11:00"))
    absence = providers.add_time_off(ana.id, {"starts_at": _at(soon, "08:00"), "ends_at": _at(soon, "13:00"),
                                              "reason": "Off sick"}).time_off
    with Statements() as counted:
        items = calendar.needs_attention()
    by_kind = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    [away] = by_kind["flagged"]
    assert away.title == "Ana Moreau is away (Off sick): 2 appointments need a new time"
    assert "Linh Tran, Noah Smith" in away.detail and away.patient_id == first.patient_id
    assert away.link == f"/admin/providers/{ana.id}/time-off/{absence.id}/replan"
    [draft] = by_kind["to_schedule"]
    assert draft.title == "Aisha Mohammed: care plan drafted, nothing booked yet"
    assert draft.link == f"/desk/plans/{drafted.id}/schedule" and draft.step == "Propose a schedule"
    # A fixed number of statements, not one per item.
    assert counted.count <= 10


def _clinicians(count: int, **fields) -> list:
    return [factories.provider(name=f"Clinician {n:02d}", hours="mon-fri 08:00-18:00", **fields) for n in range(count)]


def test_the_day_comes_a_page_of_clinicians_at_a_time_for_the_same_statements(ctx):
    """A network's day is read a page at a time: the page's columns and statements do not grow with the clinic."""
    _clinicians(calendar.COLUMNS_PER_PAGE + 4)
    db.session.remove()
    with Statements() as smaller:
        first = calendar.day_grid(MONDAY)
    assert (first.page, first.pages, first.clinicians) == (1, 2, calendar.COLUMNS_PER_PAGE + 4)
    assert [c.provider.name for c in first.columns] == [f"Clinician {n:02d}" for n in range(calendar.COLUMNS_PER_PAGE)]
    second = calendar.day_grid(MONDAY, page=2)
    assert [c.provider.name for c in second.columns] == [f"Clinician {n:02d}" for n in range(16, 20)]
    # Past the last page: the last one.
    assert calendar.day_grid(MONDAY, page=9).page == 2
    import pytest
    from careplan.errors import Invalid
    with pytest.raises(Invalid) as refused:
        calendar.day_grid(MONDAY, page=0)
    assert "page" in refused.value.fields

    more = _clinicians(3 * calendar.COLUMNS_PER_PAGE)
    for provider in more:
        factories.appointment(factories.patient(), provider, _at(MONDAY, "09:00"))
    db.session.remove()
    with Statements() as larger:
        grid = calendar.day_grid(MONDAY)
    assert len(grid.columns) == calendar.COLUMNS_PER_PAGE and grid.clinicians == 4 * calendar.COLUMNS_PER_PAGE + 4
    # The red flags and the page's patients' other sessions, neither read on an empty day.
    assert larger.count == smaller.count + 2
    for provider in _clinicians(3 * calendar.COLUMNS_PER_PAGE):
        factories.appointment(factories.patient(), provider, _at(MONDAY, "10:00"))
    db.session.remove()
    with Statements() as largest:
        grid = calendar.day_grid(MONDAY, page=3)
    assert len(grid.columns) == calendar.COLUMNS_PER_PAGE and largest.count == larger.count


def test_a_visit_is_counted_across_pages(ctx):
    """A patient seeing a clinician on page 1 and then one on page 2 makes one trip of two sessions."""
    clinicians = _clinicians(calendar.COLUMNS_PER_PAGE + 1)
    martha = factories.patient(name="Martha")
    first = factories.appointment(martha, clinicians[0], _at(MONDAY, "09:00"), minutes=45)
    last = factories.appointment(martha, clinicians[-1], _at(MONDAY, "09:45"), minutes=45)
    assert calendar.day_grid(MONDAY).visits[first.id] == (1, 2)
    assert calendar.day_grid(MONDAY, page=2).visits[last.id] == (1, 2)


def _at_sites(hours: str, location) -> list[dict]:
    return [dict(window, location_id=location.id) for window in factories.windows(hours)]


def test_a_location_shows_the_clinicians_working_there_and_what_is_booked_there(ctx):
    king, liberty = factories.location("King West"), factories.location("Liberty Village")
    ana = factories.provider(name="Ana", hours=None, availability=_at_sites("mon 08:00-12:00", king) +
                             _at_sites("mon 13:00-17:00", liberty))
    ben = factories.provider(name="Ben", hours=None, availability=_at_sites("tue 08:00-12:00", liberty))
    afternoon = factories.appointment(factories.patient(), ana, _at(MONDAY, "14:00"), location_id=liberty.id)
    # Ben does not work at Liberty Village on Mondays, but something is booked for him there.
    factories.appointment(factories.patient(), ben, _at(MONDAY, "10:00"), location_id=liberty.id)
    at_king = calendar.day_grid(MONDAY, location_id=king.id)
    assert [c.provider.name for c in at_king.columns] == ["Ana"]
    [column] = at_king.columns
    assert [(clinic.to_local(s).hour, clinic.to_local(e).hour) for s, e in column.hours] == [(8, 12)]
    assert column.appointments == []
    at_liberty = calendar.day_grid(MONDAY, location_id=liberty.id)
    assert [c.provider.name for c in at_liberty.columns] == ["Ana", "Ben"]
    assert [a.id for a in at_liberty.columns[0].appointments] == [afternoon.id]
    assert len(calendar.day_grid(MONDAY).columns) == 2
    import pytest
    from careplan.errors import Invalid
    with pytest.raises(Invalid) as refused:
        calendar.day_grid(MONDAY, location_id=liberty.id + 100)
    assert "location_id" in refused.value.fields


def test_a_location_shows_only_the_slots_held_there(ctx):
    """A clinician working at two locations that day: a slot a proposal holds for them at the other location
    is not shown on this location's page, as their appointments there are not."""
    from careplan.proposals.models import HeldSlot

    king, liberty = factories.location("King West"), factories.location("Liberty Village")
    ana = factories.provider(name="Ana", hours=None, availability=_at_sites("mon 08:00-12:00", king) +
                             _at_sites("mon 13:00-17:00", liberty))
    patient = factories.patient()
    plan = factories.care_plan(patient, {"physiotherapy": ana}, status="draft")
    proposal = factories.proposal(plan.id)
    for clock, where in (("09:00", king.id), ("14:00", liberty.id)):
        db.session.add(HeldSlot(proposal_id=proposal.id, patient_id=patient.id, provider_id=ana.id,
                                discipline_code="physiotherapy", starts_at=_at(MONDAY, clock),
                                ends_at=_at(MONDAY, clock) + timedelta(minutes=45), location_id=where))
    db.session.commit()
    [at_king] = calendar.day_grid(MONDAY, location_id=king.id).columns
    assert [clinic.to_local(h.starts_at).hour for h in at_king.holds] == [9]
    [at_liberty] = calendar.day_grid(MONDAY, location_id=liberty.id).columns
    assert [clinic.to_local(h.starts_at).hour for h in at_liberty.holds] == [14]
    [everywhere] = calendar.day_grid(MONDAY).columns
    assert [clinic.to_local(h.starts_at).hour for h in everywhere.holds] == [9, 14]


def test_a_clinicians_week_shows_the_same_hours_every_day_and_an_early_end_closed(client, app, auth):
    """Found in use: Ana's week on the desk's calendar ran to 18:00 (her Sunday off on the grid's default hours)
    while she stops at 16:00 on weekdays, so 16:00-18:00 looked free on each of them."""
    with app.app_context():
        ana = factories.provider(name="Ana", hours="mon 08:00-18:00, tue-fri 08:00-16:00").id
        lea = factories.provider(name="Léa", hours="mon-fri 09:00-16:00").id
    desk = auth("front_desk")
    week = client.get(f"/api/v1/calendar/week?provider_id={ana}&date=2027-03-03", headers=desk).json
    assert (week["opens"], week["closes"]) == ("2027-03-01T08:00:00", "2027-03-07T18:00:00")
    closed = {(e["start"], e["end"]) for e in week["events"] if e["kind"] == "closed"}
    assert ("2027-03-02T16:00:00", "2027-03-02T18:00:00") in closed and ("2027-03-05T16:00:00", "2027-03-05T18:00:00") in closed
    assert ("2027-03-07T08:00:00", "2027-03-07T18:00:00") in closed
    assert not any(start.startswith("2027-03-01") for start, _ in closed)
    # Without JavaScript, the week's table: the same rows every day, the early end closed.
    with app.app_context():
        grid = calendar.week_grid(ana, date(2027, 3, 3))
        assert {(clinic.to_local(d.opens).time().isoformat(), clinic.to_local(d.closes).time().isoformat())
                for d in grid.days} == {("08:00:00", "18:00:00")}
    # A clinician who never works past 16:00: the week ends there, not at the grid's default 18:00.
    week = client.get(f"/api/v1/calendar/week?provider_id={lea}&date=2027-03-03", headers=desk).json
    assert (week["opens"], week["closes"]) == ("2027-03-01T09:00:00", "2027-03-07T16:00:00")


def test_a_red_flag_stops_the_patients_plans_from_being_offered_to_schedule(client, app, auth):
    """Found in use: Needs attention listed both "red flag waiting for a clinician" and "care plan drafted ...
    Propose a schedule" for the same patient, whose proposal the gate then refuses."""
    with app.app_context():
        factories.protocols()
        martha = factories.patient(name="Martha Kowalski").id
        factories.plan(martha)
        factories.plan(factories.patient(name="Aisha Mohammed").id)
    refused = client.post(f"/api/v1/patients/{martha}/intakes", headers=auth("front_desk"),
                          json=factories.intake_body(red_flags={"fever": True}))
    assert refused.status_code == 422
    with app.app_context():
        items = calendar.needs_attention()
    assert [(i.kind, i.title) for i in items if i.patient_id == martha] == [
        ("red_flag", "Martha Kowalski: red flag waiting for a clinician")]
    assert [i.title for i in items if i.kind == "to_schedule"] == ["Aisha Mohammed: care plan drafted, nothing booked yet"]


