"""Whole plans: proposed and held, booked all or nothing, re-planned around absences and phase changes."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from careplan.errors import Conflict
from careplan.extensions import db
from careplan.plans.models import CarePlan
from careplan.plans.service import change_phase
from careplan.proposals import service
from careplan.proposals.models import Proposal
from careplan.providers.service import add_time_off
from careplan.reminders.models import OutboundEmail
from careplan.scheduling import service as scheduling
from careplan.scheduling.models import Appointment
from tests import factories

FAST = {"time_limit": 1.0, "deterministic": True}
MONDAY = date(2027, 3, 1)


def _draft(**fields):
    physio = factories.provider()
    patient = factories.patient()
    plan = factories.care_plan(patient, {"physiotherapy": physio}, start=MONDAY, status="draft", **fields)
    return plan, physio, patient


def _appointments(plan_id: int) -> list[Appointment]:
    return list(db.session.scalars(select(Appointment).where(Appointment.plan_id == plan_id,
                                                             Appointment.status != "cancelled")
                                   .order_by(Appointment.starts_at)))


def _emails(kind: str, **where) -> list[OutboundEmail]:
    query = select(OutboundEmail).where(OutboundEmail.kind == kind)
    for name, value in where.items():
        query = query.where(getattr(OutboundEmail, name) == value)
    return list(db.session.scalars(query))


def test_a_proposal_holds_every_session_of_the_plan(ctx):
    plan, physio, _ = _draft()
    proposal = service.propose(plan.id, dict(FAST), caller=factories.CALLER)
    assert proposal.status == "live" and proposal.kind == "plan"
    assert len(proposal.holds) == 4 and proposal.unscheduled == []
    assert {h.provider_id for h in proposal.holds} == {physio.id}
    assert {h.plan_week for h in proposal.holds} == {0, 1}
    assert proposal.metrics["scheduled"] == 4
    assert db.session.get(CarePlan, plan.id).status == "draft"


def test_held_slots_are_not_offered_to_anyone_else_until_they_expire(ctx):
    plan, physio, _ = _draft()
    now = datetime.now(timezone.utc)
    proposal = service.propose(plan.id, dict(FAST), now=now, caller=factories.CALLER)
    hold = proposal.holds[0]
    someone = factories.patient()
    body = {"patient_id": someone.id, "provider_id": physio.id, "discipline": "physiotherapy",
            "start": hold.starts_at, "minutes": 45}
    with pytest.raises(Conflict) as refused:
        scheduling.book_appointment(dict(body), now=now, caller=factories.CALLER)
    assert refused.value.extra["conflicting_proposal_ids"] == [proposal.id]
    assert "held for proposal" in refused.value.fields["start"]
    day = hold.starts_at.replace(hour=0, minute=0)
    starts = {s["start"] for s in scheduling.free_slots(physio.id, day, day + timedelta(days=1), 45, now=now)}
    assert hold.starts_at not in starts
    later = proposal.expires_at + timedelta(seconds=1)
    assert proposal.state(later) == "expired"
    assert hold.starts_at in {s["start"] for s in scheduling.free_slots(
        physio.id, day, day + timedelta(days=1), 45, now=later)}
    booked = scheduling.book_appointment(dict(body), now=later, caller=factories.CALLER)
    assert booked.starts_at == hold.starts_at
    assert service.expire_proposals(later) == 1
    assert db.session.get(Proposal, proposal.id).status == "expired"


def test_another_plans_proposal_works_around_live_holds(ctx):
    plan, physio, _ = _draft()
    first = service.propose(plan.id, dict(FAST), caller=factories.CALLER)
    other = factories.care_plan(factories.patient(), {"physiotherapy": physio}, start=MONDAY, status="draft")
    second = service.propose(other.id, dict(FAST), caller=factories.CALLER)
    mine = {(h.starts_at, h.ends_at) for h in first.holds}
    for hold in second.holds:
        assert not any(s < hold.ends_at and hold.starts_at < e for s, e in mine)


def _proposal_of(client, job: dict, headers: dict) -> dict:
    """The proposal a done job made (followed by its link, as a client does)."""
    assert job["state"] == "done", job
    [link] = job["links"]["proposals"]
    answer = client.get(link, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_booking_a_proposal_books_all_with_reminders_and_one_confirmation(app, client, auth, solved):
    headers = auth("front_desk")
    with app.app_context():
        plan, _, patient = _draft()
        plan_id, patient_id = plan.id, patient.id
    made = client.post(f"/api/v1/plans/{plan_id}/proposals", json=FAST, headers=headers)
    assert made.headers["Location"].endswith(f"/api/v1/jobs/{made.get_json()['id']}")
    assert made.get_json()["state"] == "queued" and made.get_json()["kind"] == "proposal"
    proposal = _proposal_of(client, solved(made, headers), headers)
    assert proposal["status"] == "live" and len(proposal["appointments"]) == 4
    assert all(a["provider_name"] and a["start"].endswith("-05:00") for a in proposal["appointments"])
    key = {**headers, "Idempotency-Key": "book-plan-1"}
    first = client.post(f"/api/v1/proposals/{proposal['id']}/book", headers=key)
    again = client.post(f"/api/v1/proposals/{proposal['id']}/book", headers=key)
    assert first.status_code == again.status_code == 200, first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert first.get_json()["status"] == "booked" and len(first.get_json()["booked_appointment_ids"]) == 4
    with app.app_context():
        rows = _appointments(plan_id)
        assert len(rows) == 4
        assert {(r.phase_name, r.plan_week) for r in rows} == {("acute", 0), ("acute", 1)}
        assert db.session.get(CarePlan, plan_id).status == "booked"
        assert len(_emails("booking-confirmation", patient_id=patient_id)) == 1
        assert len(_emails("reminder", patient_id=patient_id)) == 8
    # Booked: no second booking, and its slots hold nothing any more.
    assert client.post(f"/api/v1/proposals/{proposal['id']}/book", headers=headers).status_code == 409


def test_a_booking_slipped_in_between_refuses_the_whole_plan_and_writes_nothing(app, client, auth):
    headers = auth("front_desk")
    with app.app_context():
        plan, physio, _ = _draft()
        plan_id = plan.id
        proposal = service.propose(plan.id, dict(FAST), caller=factories.CALLER)
        proposal_id = proposal.id
        hold = proposal.holds[2]
        kept = {(h.starts_at, h.provider_id) for i, h in enumerate(proposal.holds) if i != 2}
        # Written straight to the table, as a concurrent booking that raced the hold would be.
        intruder = factories.appointment(factories.patient(), physio, hold.starts_at).id
    refused = client.post(f"/api/v1/proposals/{proposal_id}/book", headers=headers)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["conflicting_appointment_ids"] == [intruder]
    assert "appointments[2].start" in refused.get_json()["error"]["fields"]
    with app.app_context():
        assert _appointments(plan_id) == []
        assert db.session.get(CarePlan, plan_id).status == "draft"
        assert db.session.get(Proposal, proposal_id).status == "live"
        assert _emails("booking-confirmation") == []
        # Asking again keeps what still fits and works around the intruder.
        again = service.propose(plan_id, dict(FAST), caller=factories.CALLER)
        assert kept <= {(h.starts_at, h.provider_id) for h in again.holds}
        assert again.metrics["moved"] == 1
        assert db.session.get(Proposal, proposal_id).status == "superseded"


def test_a_plan_changed_since_the_proposal_is_refused(ctx):
    plan, _, _ = _draft()
    proposal = service.propose(plan.id, dict(FAST), caller=factories.CALLER)
    plan.version += 1
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        service.book_proposal(proposal.id, caller=factories.CALLER)
    assert "changed since" in refused.value.message
    assert _appointments(plan.id) == []


def _booked_plan(weeks=2):
    plan, physio, patient = _draft(phases=(("acute", weeks, "Calm", [("physiotherapy", 2, 1, 45)]),))
    service.book_proposal(service.propose(plan.id, dict(FAST), caller=factories.CALLER).id, caller=factories.CALLER)
    return plan, physio, patient


def test_an_absence_over_booked_appointments_moves_only_those(app, client, auth, solved):
    headers = auth("front_desk")
    with app.app_context():
        plan, physio, patient = _booked_plan()
        before = {a.id: (a.starts_at, a.sequence) for a in _appointments(plan.id)}
        hit = _appointments(plan.id)[1]
        day = hit.starts_at.replace(hour=5, minute=0)
        absence = add_time_off(physio.id, {"starts_at": day, "ends_at": day + timedelta(hours=20), "reason": "sick"})
        ids = (plan.id, physio.id, absence.time_off.id, hit.id, patient.id)
    plan_id, physio_id, absence_id, hit_id, patient_id = ids
    affected = client.get(f"/api/v1/providers/{physio_id}/time-off/{absence_id}/affected-appointments",
                          headers=headers)
    assert [a["id"] for a in affected.get_json()] == [hit_id]
    made = client.post(f"/api/v1/providers/{physio_id}/time-off/{absence_id}/replans", json=FAST, headers=headers)
    job = solved(made, headers)
    assert job["kind"] == "absence_replan" and job["result"]["without_plan"] == []
    assert job["result"]["not_replanned"] == []
    proposal = _proposal_of(client, job, headers)
    assert proposal["kind"] == "replan" and proposal["cancellations"] == []
    [move] = proposal["appointments"]
    assert move["action"] == "move" and move["appointment_id"] == hit_id and move["previous_start"]
    with app.app_context():
        # Nothing moves before the front desk books it.
        assert {a.id: (a.starts_at, a.sequence) for a in _appointments(plan_id)} == before
    booked = client.post(f"/api/v1/proposals/{proposal['id']}/book", headers=headers)
    assert booked.status_code == 200, booked.get_json()
    with app.app_context():
        after = {a.id: (a.starts_at, a.sequence) for a in _appointments(plan_id)}
        assert set(after) == set(before)
        assert [i for i in after if after[i] != before[i]] == [hit_id]
        assert after[hit_id][1] == before[hit_id][1] + 1
        assert len(_emails("reschedule", appointment_id=hit_id)) == 1
        pending = _emails("reminder", appointment_id=hit_id)
        assert {r.status for r in pending if r.due_at < before[hit_id][0]} >= {"cancelled"}


def test_a_clinicians_phase_change_is_re_planned(ctx):
    plan, _, _ = _booked_plan()
    plan.status = "active"
    db.session.commit()
    change_phase(plan.id, "acute", {"change": "extend", "weeks": 1, "reason": "Slow progress."},
                 today=MONDAY - timedelta(days=7), caller=factories.CALLER)
    proposal = service.propose_replan(plan.id, dict(FAST), caller=factories.CALLER)
    assert [h.action for h in proposal.holds] == ["create", "create"]
    assert {h.plan_week for h in proposal.holds} == {2}
    service.book_proposal(proposal.id, caller=factories.CALLER)
    assert len(_appointments(plan.id)) == 6
    factories.confirmations_sent()
    change_phase(plan.id, "acute", {"change": "shorten", "weeks": 2, "reason": "Recovered fast."},
                 today=MONDAY - timedelta(days=7), caller=factories.CALLER)
    shorter = service.propose_replan(plan.id, dict(FAST), caller=factories.CALLER)
    assert shorter.holds == [] and len(shorter.cancellations) == 4
    service.book_proposal(shorter.id, caller=factories.CALLER)
    assert len(_appointments(plan.id)) == 2
    assert len(_emails("cancellation")) == 4
    with pytest.raises(Conflict):
        service.propose_replan(plan.id, dict(FAST), caller=factories.CALLER)


def test_a_cancelled_slot_is_offered_to_plans_missing_that_session(app, client, auth):
    headers = auth("front_desk")
    with app.app_context():
        physio = factories.provider()
        waiting = factories.care_plan(factories.patient(), {"physiotherapy": physio}, start=MONDAY)
        freed = factories.appointment(factories.patient(), physio,
                                      datetime(2027, 3, 3, 15, 0, tzinfo=timezone.utc))
        scheduling.update_appointment(freed.id, {"status": "cancelled", "reason": "flu"}, caller=factories.CALLER)
        freed_id, waiting_id = freed.id, waiting.id
    candidates = client.get(f"/api/v1/appointments/{freed_id}/backfill", headers=headers)
    assert candidates.status_code == 200, candidates.get_json()
    [best] = candidates.get_json()
    assert best["plan_id"] == waiting_id and best["week"] == 0 and best["missing_that_week"] == 2
    booked = client.post("/api/v1/appointments", json=best["booking"], headers=headers)
    assert booked.status_code == 201, booked.get_json()
    assert client.get(f"/api/v1/appointments/{freed_id}/backfill", headers=headers).get_json() == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Appointment)
                                 .where(Appointment.plan_id == waiting_id)) == 1


def test_a_freed_slot_is_not_offered_to_a_plan_that_requires_another_clinician(app, client, auth):
    headers = auth("front_desk")
    with app.app_context():
        physio, chosen = factories.provider(), factories.provider()
        waiting = factories.care_plan(factories.patient(), {"physiotherapy": chosen}, start=MONDAY)
        waiting.care_team[0].required = True
        db.session.commit()
        freed = factories.appointment(factories.patient(), physio,
                                      datetime(2027, 3, 3, 15, 0, tzinfo=timezone.utc))
        scheduling.update_appointment(freed.id, {"status": "cancelled", "reason": "flu"}, caller=factories.CALLER)
        freed_id = freed.id
    assert client.get(f"/api/v1/appointments/{freed_id}/backfill", headers=headers).get_json() == []


def test_the_demo_books_its_active_plan_through_a_proposal(ctx):
    from careplan.demo import load_demo

    load_demo()
    [active] = db.session.scalars(select(CarePlan).where(CarePlan.status == "active")).all()
    [proposal] = db.session.scalars(select(Proposal).where(Proposal.plan_id == active.id)).all()
    assert proposal.status == "booked"
    assert len(_appointments(active.id)) == len(proposal.holds) > 0


def test_an_expired_hold_whose_slot_was_taken_refuses_the_booking(ctx):
    plan, physio, _ = _draft()
    now = datetime.now(timezone.utc)
    proposal = service.propose(plan.id, dict(FAST), now=now, caller=factories.CALLER)
    later = proposal.expires_at + timedelta(minutes=1)
    hold = proposal.holds[0]
    taken = scheduling.book_appointment({"patient_id": factories.patient().id, "provider_id": physio.id,
                                         "discipline": "physiotherapy", "start": hold.starts_at, "minutes": 45},
                                        now=later, caller=factories.CALLER)
    with pytest.raises(Conflict) as refused:
        service.book_proposal(proposal.id, now=later, caller=factories.CALLER)
    assert refused.value.extra["conflicting_appointment_ids"] == [taken.id]
    assert _appointments(plan.id) == [] and db.session.get(CarePlan, plan.id).status == "draft"


def test_an_expired_proposal_whose_slots_are_still_free_books(ctx):
    plan, _, _ = _draft()
    now = datetime.now(timezone.utc)
    proposal = service.propose(plan.id, dict(FAST), now=now, caller=factories.CALLER)
    later = proposal.expires_at + timedelta(minutes=1)
    service.expire_proposals(later)
    booked = service.book_proposal(proposal.id, now=later, caller=factories.CALLER)
    assert booked.status == "booked" and len(_appointments(plan.id)) == 4


def test_a_released_proposal_does_not_book(app, client, auth):
    headers = auth("front_desk")
    with app.app_context():
        plan, _, _ = _draft()
        plan_id = plan.id
        proposal_id = service.propose(plan.id, dict(FAST), caller=factories.CALLER).id
    let_go = client.post(f"/api/v1/proposals/{proposal_id}/release", headers=headers)
    assert let_go.status_code == 200 and let_go.get_json()["status"] == "released"
    refused = client.post(f"/api/v1/proposals/{proposal_id}/book", headers=headers)
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["fields"] == {"status": "released"}
    with app.app_context():
        assert _appointments(plan_id) == [] and db.session.get(CarePlan, plan_id).status == "draft"
        # Asking again still starts from what the released proposal had found.
        assert service._previous(db.session.get(CarePlan, plan_id)).id == proposal_id


def test_a_proposal_with_nothing_placed_does_not_book(ctx):
    # No working hours: the optimizer places nothing and says why for each session.
    physio = factories.provider(hours=None)
    plan = factories.care_plan(factories.patient(), {"physiotherapy": physio}, start=MONDAY, status="draft")
    proposal = service.propose(plan.id, dict(FAST), caller=factories.CALLER)
    assert proposal.holds == [] and len(proposal.unscheduled) == 4
    with pytest.raises(Conflict) as refused:
        service.book_proposal(proposal.id, caller=factories.CALLER)
    assert refused.value.fields == {"appointments": "none to book"}
    assert db.session.get(CarePlan, plan.id).status == "draft"
    assert db.session.get(Proposal, proposal.id).status == "live"


def test_booking_re_checks_the_plans_state(ctx):
    plan, _, _ = _draft()
    proposal = service.propose(plan.id, dict(FAST), caller=factories.CALLER)
    # A plan's status moved on without a new version (as a concurrent change could leave it).
    plan.status = "cancelled"
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        service.book_proposal(proposal.id, caller=factories.CALLER)
    assert refused.value.fields == {"status": "cancelled"}
    assert _appointments(plan.id) == []


def test_a_plan_with_50_minute_psychotherapy_books_from_template_to_appointments(app, client, auth, solved):
    """Pain-related stress or insomnia brings the templates' 50-minute psychotherapy in; it books end to end."""
    desk = auth("front_desk")
    with app.app_context():
        factories.protocols()
        team = {code: factories.provider(disciplines=(code,), hours="mon-fri 08:00-18:00").id
                for code in ("physiotherapy", "massage", "nutrition", "kinesiology", "chiropractic", "psychotherapy")}
        patient_id = factories.patient(hours="mon-fri 08:00-18:00").id
    intake = client.post(f"/api/v1/patients/{patient_id}/intakes", headers=desk, json=factories.intake_body(
        severity="mild", pain_stress_or_insomnia=True))
    assert intake.status_code == 201, intake.get_json()
    plan = client.post("/api/v1/plans", headers=desk, json={
        "intake_id": intake.get_json()["id"], "start_date": MONDAY.isoformat(),
        "care_team": [{"discipline": code, "provider_id": pid} for code, pid in team.items()]})
    assert plan.status_code == 201, plan.get_json()
    therapy = [s for phase in plan.get_json()["phases"] for s in phase["sessions"] if s["discipline"] == "psychotherapy"]
    assert [s["minutes"] for s in therapy] == [50, 50]
    made = client.post(f"/api/v1/plans/{plan.get_json()['id']}/proposals", headers=desk,
                       json={"time_limit": 5.0, "deterministic": True})
    proposal = _proposal_of(client, solved(made, desk), desk)
    held = [a for a in proposal["appointments"] if a["discipline"] == "psychotherapy"]
    assert len(held) == 4 and proposal["unscheduled"] == []
    booked = client.post(f"/api/v1/proposals/{proposal['id']}/book", headers=desk)
    assert booked.status_code == 200, booked.get_json()
    with app.app_context():
        rows = [a for a in _appointments(plan.get_json()["id"]) if a.discipline_code == "psychotherapy"]
        assert len(rows) == 4 and {a.minutes for a in rows} == {50}
        assert all(a.starts_at.minute % 15 == 0 for a in rows)
        assert db.session.get(CarePlan, plan.get_json()["id"]).status == "booked"


def test_a_required_clinician_alone_treats_and_what_they_cannot_take_is_unscheduled(app, client, auth, solved):
    """The desk marks the physiotherapist the patient asked for as required: no session goes to anyone else."""
    desk = auth("front_desk")
    with app.app_context():
        chosen = factories.provider(hours="wed 09:00-12:00").id
        anyone = factories.provider(hours="mon-fri 08:00-16:00")
        patient = factories.patient(hours="mon-fri 09:00-17:00")
        plan_id = factories.care_plan(patient, {"physiotherapy": anyone}, start=MONDAY, status="draft").id
    team = [{"discipline": "physiotherapy", "provider_id": chosen, "required": True}]
    changed = client.patch(f"/api/v1/plans/{plan_id}", headers=desk, json={"care_team": team, "reason": "Her wish."})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["care_team"] == [{"discipline": "physiotherapy", "provider_id": chosen,
                                                "required": True}]
    made = client.post(f"/api/v1/plans/{plan_id}/proposals", headers=desk, json=dict(FAST))
    body = _proposal_of(client, solved(made, desk), desk)
    # Two sessions a week, but she works one morning a week: one session a week with her, one unscheduled.
    assert [a["provider_id"] for a in body["appointments"]] == [chosen, chosen]
    assert len(body["unscheduled"]) == 2
    assert all(f"only provider-{chosen} may give" in u["reason"] for u in body["unscheduled"])
    refused = client.patch(f"/api/v1/plans/{plan_id}", headers=desk, json={
        "care_team": [{"discipline": "physiotherapy", "provider_id": chosen, "required": "always"}],
        "reason": "Typo."})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"care_team[0].required": "Not a valid boolean."}


def _acute_new_patient(**patient_fields):
    """A new lumbar patient (moderate), free every weekday, with every clinician free too: the optimizer's
    fewest-visits objective would put the assessment and the week's three treatments on the first day."""
    factories.protocols()
    team = {code: factories.provider(disciplines=(code,), hours="mon-fri 08:00-18:00")
            for code in ("physiotherapy", "massage", "nutrition", "chiropractic", "kinesiology")}
    patient = factories.patient(hours="mon-fri 09:00-17:00", **patient_fields)
    plan = factories.plan(patient.id, start_date=MONDAY, care_team=[
        {"discipline": code, "provider_id": p.id} for code, p in team.items()
        if code in {"physiotherapy", "massage", "nutrition"}])
    return plan


def _most_in_a_day(proposal) -> int:
    days = Counter(h.starts_at.astimezone(ZoneInfo("America/Toronto")).date() for h in proposal.holds)
    return max(days.values())


def test_an_acute_new_patient_gets_at_most_the_clinics_three_sessions_a_day(ctx):
    plan = _acute_new_patient()
    proposal = service.propose(plan.id, {"time_limit": 3.0, "deterministic": True}, caller=factories.CALLER)
    assert proposal.problem["patients"][0]["max_sessions_per_day"] == 3
    assert proposal.holds and _most_in_a_day(proposal) == 3


def test_a_patients_own_lower_limit_reaches_the_optimizer(ctx):
    plan = _acute_new_patient(max_sessions_per_day=2)
    proposal = service.propose(plan.id, {"time_limit": 3.0, "deterministic": True}, caller=factories.CALLER)
    assert proposal.problem["patients"][0]["max_sessions_per_day"] == 2
    assert proposal.holds and _most_in_a_day(proposal) == 2


def test_extending_a_phase_keeps_the_appointment_of_every_session_that_still_exists(ctx):
    """Acute grows from 2 to 3 weeks, so subacute moves from weeks 2-3 to 3-4. Week 2's physiotherapy now
    answers acute week 2 where it is; week 2's massage (subacute asks for massage in weeks 3 and 4, week 3's
    is booked) moves to week 4; nothing the plan still asks for is cancelled."""
    physio = factories.provider()
    masseur = factories.provider(disciplines=("massage",))
    patient = factories.patient()
    plan = factories.care_plan(patient, {"physiotherapy": physio, "massage": masseur}, start=MONDAY,
                               status="draft", phases=(
                                   ("acute", 2, "Calm", [("physiotherapy", 2, 1, 45)]),
                                   ("subacute", 2, "Build", [("physiotherapy", 1, 1, 45), ("massage", 1, 1, 60)])))
    service.book_proposal(service.propose(plan.id, dict(FAST), caller=factories.CALLER).id, caller=factories.CALLER)
    plan.status = "active"
    week2 = {a.discipline_code: a for a in _appointments(plan.id) if a.plan_week == 2}
    week2["physiotherapy"].status = "confirmed"
    db.session.commit()
    before = {a.id: (a.starts_at, a.provider_id, a.sequence) for a in _appointments(plan.id)}
    assert len(before) == 8
    physio_id, massage_id = week2["physiotherapy"].id, week2["massage"].id
    reminders = {r.id for r in _emails("reminder", appointment_id=physio_id) if r.status == "pending"}

    change_phase(plan.id, "acute", {"change": "extend", "weeks": 1, "reason": "Slow progress."},
                 today=MONDAY - timedelta(days=7), caller=factories.CALLER)
    proposal = service.propose_replan(plan.id, dict(FAST), caller=factories.CALLER)
    assert proposal.cancellations == []
    assert proposal.relabels == [{"appointment_id": physio_id, "sequence": before[physio_id][2],
                                  "phase": "acute", "week": 2}]
    [move] = [h for h in proposal.holds if h.action == "move"]
    assert (move.appointment_id, move.phase_name, move.plan_week) == (massage_id, "subacute", 4)
    assert proposal.metrics["moved"] == 1
    assert sorted((h.phase_name, h.plan_week, h.discipline_code) for h in proposal.holds if h.action == "create") \
        == [("acute", 2, "physiotherapy"), ("subacute", 4, "physiotherapy")]

    service.book_proposal(proposal.id, caller=factories.CALLER)
    after = {a.id: a for a in _appointments(plan.id)}
    assert len(after) == 10 and set(before) <= set(after)
    kept = after[physio_id]
    assert (kept.starts_at, kept.provider_id, kept.sequence) == before[physio_id]
    assert (kept.phase_name, kept.plan_week, kept.status) == ("acute", 2, "confirmed")
    assert {r.id for r in _emails("reminder", appointment_id=physio_id) if r.status == "pending"} == reminders
    assert (after[massage_id].phase_name, after[massage_id].plan_week) == ("subacute", 4)
    assert _emails("cancellation") == []
    assert service.replan_needs(db.session.get(CarePlan, plan.id))["stale"] == []
