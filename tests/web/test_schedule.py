"""The desk's schedule pages with Flask's test client: propose and book, move and cancel one appointment,
the backfill of the freed slot, the re-plan after a clinician's absence."""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from careplan.clinic import service as clinic
from careplan.protocols.service import CLINIC_PROTOCOLS as PROTOCOLS
from careplan.extensions import db
from careplan.plans.service import build_plan
from careplan.protocols.service import load_directory
from careplan.proposals.models import HeldSlot, Proposal
from careplan.providers.service import add_time_off
from careplan.scheduling.models import Appointment
from tests import factories

FAST = {"time_limit": "1"}


def mild_plan(app, *, massage_hours: str = "mon-sat 08:00-18:00") -> tuple[int, int]:
    """A mild thoracic plan starting next Monday, its physiotherapist on the care team: (plan, physiotherapist)."""
    with app.app_context():
        load_directory(PROTOCOLS)
        physio = factories.provider(name="Ana Moreau", hours="mon-sat 08:00-18:00").id
        factories.provider(name="Sofia Lindqvist", disciplines=("massage",), hours=massage_hours)
        factories.provider(name="Lucas Ferreira", disciplines=("kinesiology",), hours="mon-sat 08:00-18:00")
        patient = factories.patient(hours="mon-fri 09:00-17:00").id
        today = datetime.now(clinic.zone()).date()
        plan = build_plan({"patient_id": patient, "region": "thoracic", "severity": "mild",
                           "start_date": today + timedelta(days=7 - today.weekday()),
                           "care_team": [{"discipline": "physiotherapy", "provider_id": physio}]}, caller=factories.CALLER)
        return plan.id, physio


def through_the_job(client, run_jobs, answer, headers) -> str:
    """A page's POST that asked for a solve leads to the job's page; once a worker ran it, that page leads on.
    Answers where it leads."""
    assert answer.status_code == 303, answer.text[:300]
    job_page = answer.headers["Location"]
    assert re.fullmatch(r"/desk/jobs/\d+", job_page)
    waiting = client.get(job_page, headers=headers)
    assert waiting.status_code == 200 and "Waiting for a worker" in waiting.text
    # The trail leads back to where the solve was asked; it does not say again what the heading says.
    heading = re.search(r"<h1>([^<·]+)", waiting.text).group(1).strip()
    trail = re.search(r'class="breadcrumb">(.*?)</nav>', waiting.text, re.S)
    assert trail is None or (heading not in trail.group(1) and trail.group(1).rstrip().endswith("</a>"))
    assert '<noscript><meta http-equiv="refresh" content="1"></noscript>' in waiting.text
    assert run_jobs()
    done = client.get(job_page, headers=headers)
    assert done.status_code == 303, done.text[:300]
    return done.headers["Location"]


def booked_mild_plan(client, app, auth, run_jobs) -> tuple[int, int, dict]:
    """The mild plan proposed (deterministic) and booked by the desk: (plan, physiotherapist, desk's headers)."""
    plan_id, physio = mild_plan(app)
    desk = auth("front_desk")
    proposed = client.post(f"/desk/plans/{plan_id}/proposals", headers=desk, data={**FAST, "deterministic": "on"})
    proposal_id = int(through_the_job(client, run_jobs, proposed, desk).rsplit("proposal=", 1)[1])
    assert client.post(f"/desk/proposals/{proposal_id}/book", headers=desk).status_code == 302
    return plan_id, physio, desk


def test_propose_book_move_cancel_and_backfill(client, app, auth, run_jobs):
    plan_id, physio = mild_plan(app)
    desk = auth("front_desk")
    empty = client.get(f"/desk/plans/{plan_id}/schedule", headers=desk).text
    assert "Nothing scheduled yet" in empty and 'name="deterministic" value="on"' in empty
    refused = client.post(f"/desk/plans/{plan_id}/proposals", headers=desk, data={**FAST, "start_date": "2001-01-01"})
    assert refused.status_code == 422 and 'href="#start_date"' in refused.text

    proposed = client.post(f"/desk/plans/{plan_id}/proposals", headers=desk, data={**FAST, "deterministic": "on"})
    page = client.get(through_the_job(client, run_jobs, proposed, desk), headers=desk).text
    assert "Proposal ready: " in page
    assert "Proposal held for you" in page and "session-block tint-" in page and "Sessions placed" in page
    # How far the search got, in the clinic's words: never the solver's "(feasible)" or "(optimal)".
    assert "(feasible)" not in page and "(optimal)" not in page
    assert re.search(r"The optimizer took [\d.]+ s: (proven best|the best it found in the time it was given)", page)
    proposal_id = int(re.search(r"/desk/proposals/(\d+)/book", page).group(1))
    assert client.post(f"/desk/proposals/{proposal_id}/book", headers=desk).status_code == 302
    booked = client.get(f"/desk/plans/{plan_id}/schedule", headers=desk).text
    assert "Booked appointments" in booked and "Propose a re-plan" in booked
    with app.app_context():
        first = db.session.scalar(select(Appointment).where(Appointment.plan_id == plan_id)
                                  .order_by(Appointment.starts_at).limit(1))
        first_id, sunday = first.id, clinic.to_local(first.starts_at) + timedelta(days=6 - first.starts_at.weekday())

    form = client.get(f"/desk/appointments/{first_id}/move", headers=desk).text
    assert 'type="datetime-local"' in form
    outside = client.post(f"/desk/appointments/{first_id}/move", headers=desk,
                          data={"start": sunday.strftime("%Y-%m-%dT06:00"), "provider_id": str(physio)})
    assert outside.status_code == 422 and "working hours" in outside.text

    cancelled = client.post(f"/desk/appointments/{first_id}/cancel", headers=desk, data={"reason": "Patient ill"})
    assert cancelled.headers["Location"] == f"/desk/appointments/{first_id}/backfill"
    backfill = client.get(cancelled.headers["Location"], headers=desk).text
    assert "Who could use the freed slot?" in backfill
    with app.app_context():
        assert db.session.get(Appointment, first_id).status == "cancelled"


def test_an_absence_leads_to_re_plan_proposals_that_book(client, app, auth, run_jobs):
    plan_id, physio, desk = booked_mild_plan(client, app, auth, run_jobs)
    with app.app_context():
        first = db.session.scalar(select(Appointment).where(Appointment.plan_id == plan_id,
                                                            Appointment.provider_id == physio)
                                  .order_by(Appointment.starts_at).limit(1))
        day = clinic.to_local(first.starts_at).date()
        away = add_time_off(physio, {"starts_at": clinic.local_datetime(day, datetime.min.time()),
                                     "ends_at": clinic.local_datetime(day + timedelta(days=1), datetime.min.time()),
                                     "reason": "Course"})
        away_id, moved_id = away.time_off.id, first.id
        factories.provider(name="Priya Raman", hours="mon-sat 08:00-18:00")
    page = client.get(f"/admin/providers/{physio}/time-off/{away_id}/replan", headers=desk).text
    assert "Appointments inside the absence" in page and "Propose the re-plans" in page
    asked = client.post(f"/admin/providers/{physio}/time-off/{away_id}/replan", headers=desk,
                        data={**FAST, "deterministic": "on"})
    result = client.get(through_the_job(client, run_jobs, asked, desk), headers=desk)
    assert result.status_code == 200 and "Re-plan proposals" in result.text
    assert "<del>" in result.text
    replan_id = int(re.search(r"/desk/proposals/(\d+)/book", result.text).group(1))
    assert client.post(f"/desk/proposals/{replan_id}/book", headers=desk).status_code == 302
    with app.app_context():
        moved = db.session.get(Appointment, moved_id)
        assert moved.status == "cancelled" or clinic.to_local(moved.starts_at).date() != day or \
            moved.provider_id != physio


def test_a_proposal_that_places_nothing_offers_no_booking(client, app, auth):
    from careplan.proposals import service as proposals

    with app.app_context():
        physio = factories.provider(hours=None)
        plan = factories.care_plan(factories.patient(), {"physiotherapy": physio}, status="draft")
        proposal = proposals.propose(plan.id, {"time_limit": 1.0, "deterministic": True}, caller=factories.CALLER)
        plan_id, proposal_id = plan.id, proposal.id
    desk = auth("front_desk")
    page = client.get(f"/desk/plans/{plan_id}/schedule", headers=desk)
    assert f'action="/desk/proposals/{proposal_id}/book"' not in page.text
    assert "nothing to book" in page.text
    refused = client.post(f"/desk/proposals/{proposal_id}/book", headers=desk)
    assert refused.status_code == 409 and "places no session" in refused.text


def test_the_proposal_shows_who_treats_how_many_sessions_per_discipline(client, app, auth, run_jobs):
    """The care team's physiotherapist works Mondays only; the second weekly session goes to another."""
    with app.app_context():
        load_directory(PROTOCOLS)
        ana = factories.provider(name="Ana Moreau", hours="mon 08:00-18:00").id
        factories.provider(name="Bruno Keller", hours="mon-sat 08:00-18:00")
        factories.provider(name="Sofia Lindqvist", disciplines=("massage",), hours="mon-sat 08:00-18:00")
        factories.provider(name="Lucas Ferreira", disciplines=("kinesiology",), hours="mon-sat 08:00-18:00")
        patient = factories.patient(hours="mon-fri 09:00-17:00").id
        today = datetime.now(clinic.zone()).date()
        plan_id = build_plan({"patient_id": patient, "region": "thoracic", "severity": "mild",
                              "start_date": today + timedelta(days=7 - today.weekday()),
                              "care_team": [{"discipline": "physiotherapy", "provider_id": ana}]}, caller=factories.CALLER).id
    desk = auth("front_desk")
    proposed = client.post(f"/desk/plans/{plan_id}/proposals", headers=desk, data={**FAST, "deterministic": "on"})
    page = client.get(through_the_job(client, run_jobs, proposed, desk), headers=desk).text
    panel = page[page.index('id="who-title"'):page.index('id="unscheduled-title"')]
    with app.app_context():
        held = {}
        for hold in db.session.scalars(select(HeldSlot).join(Proposal).where(Proposal.plan_id == plan_id)):
            held.setdefault(hold.discipline_code, Counter())[hold.provider.name] += 1
    physio = held["physiotherapy"]
    assert set(physio) == {"Ana Moreau", "Bruno Keller"}
    rows = re.findall(r"<td>([^<]+?)(?: <span class=\"subtle\">\(([^)]*)\)</span>)?</td>\s*"
                      r"<td>(\d+) of (\d+)</td>", panel)
    shown = {name: (int(n), int(total), note) for name, note, n, total in rows}
    assert shown["Ana Moreau"] == (physio["Ana Moreau"], sum(physio.values()), "care team")
    assert shown["Bruno Keller"][:2] == (physio["Bruno Keller"], sum(physio.values()))
    assert shown["Sofia Lindqvist"][:2] == (held["massage"]["Sofia Lindqvist"], held["massage"].total())
    assert "2 clinicians" in panel
    assert "Care team: Ana Moreau</option>" in page


def test_the_job_page_says_what_the_optimizer_is_working_on(client, app, auth):
    """The stage line read "sessions, visits and continuity" under the figures, a fragment with no subject."""
    plan_id, _ = mild_plan(app)
    desk = auth("front_desk")
    asked = client.post(f"/desk/plans/{plan_id}/proposals", headers=desk, data={**FAST, "deterministic": "on"})
    page = client.get(asked.headers["Location"], headers=desk).text
    assert re.search(r'What it is working on: <span data-job-figure="stage">waiting to start</span>', page)


def test_the_job_page_speaks_the_staffs_language_and_gives_its_script_the_states_words(client, app, auth,
                                                                                      monkeypatch):
    """Its labels, the state and the words careplan.js shows as the job moves on (data-states) in French on a
    French page; the figures' spans stay where the script fills them in."""
    import json
    from html import unescape

    from careplan import i18n

    plan_id, _ = mild_plan(app)
    desk = auth("front_desk")
    asked = client.post(f"/desk/plans/{plan_id}/proposals", headers=desk, data={**FAST, "deterministic": "on"})
    english = client.get(asked.headers["Location"], headers=desk).text
    assert "Proposing a schedule" in english and "<dt>Sessions placed</dt>" in english
    monkeypatch.setattr(i18n, "STAFF_LANGUAGE", "fr")
    page = client.get(asked.headers["Location"], headers=desk).text
    assert "Proposition d'un horaire" in unescape(page) and "En attente d'un processus" in unescape(page)
    for label in ("Écoulé", "Séances placées", "Visites", "Minimum possible", "Changements de clinicien", "Annuler"):
        assert label in page, label
    for english_word in ("Elapsed", "Sessions placed", "Fewest possible", "Waiting for a worker", ">Cancel<"):
        assert english_word not in page, english_word
    states = json.loads(unescape(re.search(r"data-states='([^']+)'", page).group(1)))
    assert states["running"] == "Optimisation en cours" and states["done"] == "Terminé"
    assert re.search(r'<span data-job-figure="scheduled">–</span> sur <span data-job-figure="demand">–</span>', page)


def test_propose_again_starts_from_the_clinicians_and_time_the_desk_chose(client, app, auth, run_jobs):
    """Found in use: after a proposal asked for another physiotherapist, the form under it showed the care team
    again, so "Propose again" silently went back to the care team."""
    plan_id, physio = mild_plan(app)
    with app.app_context():
        bruno = factories.provider(name="Bruno Keller", hours="mon-sat 08:00-18:00").id
    desk = auth("front_desk")
    proposed = client.post(f"/desk/plans/{plan_id}/proposals", headers=desk,
                           data={"time_limit": "3", "deterministic": "on", "prefer-physiotherapy": str(bruno)})
    page = client.get(through_the_job(client, run_jobs, proposed, desk), headers=desk).text
    choice = re.search(r'<select id="prefer-physiotherapy".*?</select>', page, re.S).group(0)
    assert re.search(rf'<option value="{bruno}" selected>Bruno Keller</option>', choice)
    assert re.search(r'<option value="3" selected>', page)
    # Without a proposal the form offers the care team, as before.
    with app.app_context():
        other_plan, _ = mild_plan(app)
    fresh = client.get(f"/desk/plans/{other_plan}/schedule", headers=desk).text
    assert " selected>" not in re.search(r'<select id="prefer-physiotherapy".*?</select>', fresh, re.S).group(0)


def test_proposing_for_a_red_flagged_patient_says_why_in_words_not_as_form_fields(client, app, auth):
    """Found in use: the refusal listed "Red flag: fever: positive: fever" as a field to check on the form."""
    with app.app_context():
        factories.protocols()
        martha = factories.patient(name="Martha Kowalski").id
        plan = factories.plan(martha).id
    desk = auth("front_desk")
    client.post(f"/api/v1/patients/{martha}/intakes", headers=desk,
                json=factories.intake_body(red_flags={"fever": True}))
    refused = client.post(f"/desk/plans/{plan}/proposals", headers=desk, data={"time_limit": "3"})
    assert refused.status_code == 422
    assert "Urgent medical care is needed, not a care plan" in refused.text
    assert "positive: fever" not in refused.text and 'href="#red_flags' not in refused.text


def test_propose_again_never_offers_a_start_now_past_nor_a_time_the_menu_lacks(client, app, auth):
    """Found in review: a proposal asked for days ago pre-filled its start, now in the past (refused on submit)."""
    from datetime import timezone

    plan_id, _ = mild_plan(app)
    with app.app_context():
        today = datetime.now(clinic.zone()).date()
        asked = factories.proposal(plan_id, parameters={"start_date": (today - timedelta(days=3)).isoformat(),
                                                       "time_limit": 7.5, "deterministic": True})
        asked.expires_at = datetime.now(timezone.utc) - timedelta(days=3)
        db.session.commit()
    page = client.get(f"/desk/plans/{plan_id}/schedule", headers=auth("front_desk")).text
    start = re.search(r'<input id="start_date"[^>]*value="([^"]+)"', page).group(1)
    assert start > today.isoformat()
    menu = re.search(r'<select id="time_limit".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="(\d+)" selected', menu) == ["5"]


def test_a_re_plan_that_books_a_cancelled_assessment_again_says_why_the_sessions_move(client, app, auth, run_jobs):
    """Found in use: the re-plan of Linh's plan moved eleven sessions; her assessment, cancelled earlier, was
    booked again, and the rules put it before every other session, but the page did not say so."""
    plan_id, physio, desk = booked_mild_plan(client, app, auth, run_jobs)
    with app.app_context():
        first = db.session.scalar(select(Appointment).where(Appointment.plan_id == plan_id,
                                                            Appointment.kind == "assessment"))
        assert first is not None, "the mild plan opens with an assessment"
        assessment_id = first.id
        treatment = db.session.scalar(select(Appointment).where(Appointment.plan_id == plan_id,
                                                                Appointment.kind == "treatment")
                                      .order_by(Appointment.starts_at).limit(1))
        # The physiotherapist is away until the first treatment: the assessment cannot go before it any more.
        add_time_off(physio, {"starts_at": clinic.local_datetime(clinic.today(), datetime.min.time()),
                              "ends_at": treatment.starts_at, "reason": "Course"})
    client.post(f"/desk/appointments/{assessment_id}/cancel", headers=desk, data={"reason": "Patient ill"})
    asked = client.post(f"/desk/plans/{plan_id}/replans", headers=desk, data={**FAST, "deterministic": "on"})
    page = client.get(through_the_job(client, run_jobs, asked, desk), headers=desk).text
    moved = int(re.search(r'Appointments moved</dt><dd><span class="figures-list__value">(\d+)', page).group(1))
    assert moved > 0
    assert "the plan&#39;s assessment is booked again, and every other session comes after it" in page
    # Booked, the plan has its assessment again, before every other session of the plan.
    replan_id = int(re.search(r"/desk/proposals/(\d+)/book", page).group(1))
    assert client.post(f"/desk/proposals/{replan_id}/book", headers=desk).status_code == 302
    with app.app_context():
        live = list(db.session.scalars(select(Appointment).where(Appointment.plan_id == plan_id,
                                                                 Appointment.status != "cancelled")))
        [assessment] = [a for a in live if a.kind == "assessment"]
        assert all(assessment.ends_at <= a.starts_at for a in live if a is not assessment)
