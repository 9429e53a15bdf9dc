"""The desk's plan editor sets how each session line is held (issue 20): in person, by video, or either."""
from __future__ import annotations

import re

from careplan.extensions import db
from careplan.plans.models import CarePlan
from tests import factories


def _form(plan) -> dict:
    """The editor's form as the page fills it (figures and modes as the plan has them)."""
    form = {"start_date": plan.start_date.isoformat(), "reason": "By video for now."}
    for p, phase in enumerate(plan.phases):
        form[f"phases-{p}-weeks"] = str(phase.weeks)
        for s, line in enumerate(phase.lines):
            for part in ("per_week", "every_weeks", "minutes", "min_gap_days", "mode"):
                form[f"phases-{p}-sessions-{s}-{part}"] = str(getattr(line, part))
    for member in plan.care_team:
        form[f"team-{member.discipline_code}"] = str(member.provider_id)
    return form


def test_the_desk_sets_a_lines_mode_and_an_unknown_one_is_named(client, app, auth):
    with app.app_context():
        factories.protocols()
        plan = factories.plan()
        plan_id, form = plan.id, _form(plan)
        assert {line.mode for phase in plan.phases for line in phase.lines} == {"in_person"}
    desk = auth("front_desk")
    page = client.get(f"/desk/plans/{plan_id}", headers=desk).text
    select = re.search(r'<select id="phases-0-sessions-0-mode"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the editor offers each line's mode"
    assert re.findall(r'<option value="(\w+)"', select[1]) == ["in_person", "virtual", "either"]
    assert '<option value="in_person" selected>' in select[1]
    assert 'for="phases-0-sessions-0-mode"' in page

    refused = client.post(f"/desk/plans/{plan_id}", headers=desk,
                          data={**form, "phases-0-sessions-0-mode": "telepathy"})
    assert refused.status_code == 422
    assert 'id="phases-0-sessions-0-mode-error"' in refused.text and 'aria-invalid="true"' in refused.text

    saved = client.post(f"/desk/plans/{plan_id}", headers=desk,
                        data={**form, "phases-0-sessions-0-mode": "either", "phases-1-sessions-0-mode": "virtual"})
    assert saved.status_code == 302, saved.text
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        assert plan.phases[0].lines[0].mode == "either" and plan.phases[1].lines[0].mode == "virtual"
        assert {line.mode for line in plan.phases[0].lines[1:]} <= {"in_person"}
    again = client.get(f"/desk/plans/{plan_id}", headers=desk).text
    assert re.search(r'<option value="either" selected>', again)
    # A form without the modes (a page opened before this change) keeps them as they are.
    legacy = {k: v for k, v in form.items() if not k.endswith("-mode")}
    assert client.post(f"/desk/plans/{plan_id}", headers=desk, data={**legacy, "reason": "Longer."}).status_code == 302
    with app.app_context():
        assert db.session.get(CarePlan, plan_id).phases[0].lines[0].mode == "either"


def test_the_proposal_says_which_sessions_are_by_video_and_where_the_others_are(client, app, auth):
    """Found in use: for a line that may be either, the proposal did not say which way each session was held."""
    from datetime import date, timedelta

    from careplan.proposals import service as proposals

    with app.app_context():
        site = factories.location("King West", address="120 King Street West")
        factories.room(site.id, name="Table 1")
        factories.needs_room("massage")
        masseur = factories.provider(disciplines=("massage",), hours=None, availability=[
            {**factories.windows("mon 08:00-16:00")[0], "location_id": site.id}])
        therapist = factories.provider(disciplines=("psychotherapy",), hours=None, availability=[
            {**factories.windows("tue 08:00-16:00")[0], "location_id": site.id}])
        patient = factories.patient(hours="mon-fri 09:00-15:00", accepts_virtual=True)
        start = date.today() + timedelta(days=14 - date.today().weekday())
        plan = factories.care_plan(patient, {"massage": masseur, "psychotherapy": therapist}, start=start,
                                   status="draft", phases=(("acute", 2, "Calm", [("massage", 1, 1, 60),
                                                                                 ("psychotherapy", 1, 1, 50)]),))
        plan.phases[0].lines[1].mode = "either"
        db.session.commit()
        proposal = proposals.propose(plan.id, {"time_limit": 1.0, "deterministic": True}, caller=factories.CALLER)
        assert sorted(h.virtual for h in proposal.holds) == [False, False, True, True]
        plan_id, proposal_id = plan.id, proposal.id
    page = client.get(f"/desk/plans/{plan_id}/schedule?proposal={proposal_id}", headers=auth("front_desk")).text
    blocks = re.findall(r'<div class="session-block .*?</div>', page, re.S)
    assert len(blocks) == 4
    where = sorted((re.search(r'session-block__what">(\w+)', b)[1],
                    re.findall(r'session-block__where[^"]*">([^<]+)', b)) for b in blocks)
    assert where == [("Massage", ["King West"])] * 2 + [("Psychotherapy", ["By video"])] * 2
