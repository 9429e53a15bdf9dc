"""A proposal in a clinic with locations, rooms and video: the optimizer's places are held and booked so."""
from __future__ import annotations

from datetime import date, timedelta

from careplan.extensions import db
from careplan.proposals import service
from tests import factories

FAST = {"time_limit": 1.0, "deterministic": True}


def test_a_proposal_holds_and_books_the_rooms_and_video_sessions_the_optimizer_chose(ctx):
    site = factories.location("King West", address="120 King Street West")
    table = factories.room(site.id, name="Table 1")
    factories.needs_room("massage")
    # Massage on Mondays, psychotherapy on Tuesdays: by video, the talk therapy saves a trip a week.
    masseur = factories.provider(disciplines=("massage",), hours=None,
                                 availability=[{**factories.windows("mon 08:00-16:00")[0], "location_id": site.id}])
    therapist = factories.provider(disciplines=("psychotherapy",), hours=None,
                                   availability=[{**factories.windows("tue 08:00-16:00")[0], "location_id": site.id}])
    patient = factories.patient(hours="mon-fri 09:00-15:00", accepts_virtual=True)
    start = date.today() + timedelta(days=14 - date.today().weekday())
    plan = factories.care_plan(patient, {"massage": masseur, "psychotherapy": therapist}, start=start, status="draft",
                               phases=(("acute", 2, "Calm", [("massage", 1, 1, 60), ("psychotherapy", 1, 1, 50)]),))
    plan.phases[0].lines[1].mode = "either"
    db.session.commit()

    proposal = service.propose(plan.id, dict(FAST), caller=factories.CALLER)
    holds = {h.discipline_code: h for h in proposal.holds}
    assert (holds["massage"].room_id, holds["massage"].location_id, holds["massage"].virtual) == (
        table.id, site.id, False)
    assert holds["psychotherapy"].virtual and holds["psychotherapy"].room_id is None

    service.book_proposal(proposal.id, caller=factories.CALLER)
    from careplan.scheduling.models import Appointment

    booked = list(db.session.scalars(db.select(Appointment).where(Appointment.plan_id == plan.id)))
    assert len(booked) == 4
    for row in booked:
        if row.discipline_code == "massage":
            assert (row.room_id, row.room_unit, row.location_id, row.virtual) == (table.id, 1, site.id, False)
        else:
            assert (row.room_id, row.location_id, row.virtual) == (None, None, True)
