"""A clinician writes a SOAP note on a care-team patient's page and reads the team's notes, newest first."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from careplan.audit.models import AuditEvent
from careplan.extensions import db
from careplan.notes.models import Note
from tests import factories
from tests.web.conftest import book


def test_a_clinician_writes_a_note_and_sees_the_team_s_notes_newest_first(client, app, auth):
    with app.app_context():
        physio = factories.provider(name="Ana Moreau").id
        patient = factories.patient(name="Martha Kowalski").id
        book(patient, physio, "physiotherapy", datetime(2027, 1, 12, 14, tzinfo=UTC))
    me = auth("provider", provider_id=physio)
    empty = client.post(f"/me/patients/{patient}", headers=me, data={"subjective": " ", "plan": ""})
    assert empty.status_code == 422 and "a note needs at least one of" in empty.text
    for words in ("Pain 6/10, sleeping better.", "Pain 4/10 after the walk."):
        saved = client.post(f"/me/patients/{patient}", headers=me,
                            data={"subjective": words, "assessment": "Improving."})
        assert saved.status_code == 302
    listed = client.get("/me/patients", headers=me).text
    assert f'href="/me/patients/{patient}">Martha Kowalski' in listed
    page = client.get(f"/me/patients/{patient}", headers=me).text
    assert page.index("Pain 4/10 after the walk.") < page.index("Pain 6/10, sleeping better.")
    with app.app_context():
        assert db.session.scalars(select(Note)).all()[0].discipline_code == "physiotherapy"
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "read",
                                                            AuditEvent.resource == "note")).all()
        assert reads and reads[-1].patient_id == patient


def test_a_clinician_amends_their_own_note_and_every_version_stays(client, app, auth):
    with app.app_context():
        physio = factories.provider(name="Ana Moreau").id
        colleague = factories.provider(name="Marc Tremblay", disciplines=("massage",)).id
        patient = factories.patient(name="Martha Kowalski").id
        book(patient, physio, "physiotherapy", datetime(2027, 1, 12, 14, tzinfo=UTC))
        book(patient, colleague, "massage", datetime(2027, 1, 13, 14, tzinfo=UTC))
    me = auth("provider", provider_id=physio)
    client.post(f"/me/patients/{patient}", headers=me, data={"subjective": "Pain 6/10."})
    with app.app_context():
        note_id = db.session.scalar(select(Note.id))
    page = client.get(f"/me/patients/{patient}", headers=me).text
    assert f'action="/me/notes/{note_id}/amend"' in page
    refused = client.post(f"/me/notes/{note_id}/amend", headers=me, data={"subjective": "Pain 5/10.", "reason": ""})
    assert refused.status_code == 422 and "Amend this note" in refused.text
    amended = client.post(f"/me/notes/{note_id}/amend", headers=me,
                          data={"subjective": "Pain 5/10.", "reason": "Misread the scale."})
    assert amended.status_code == 302
    page = client.get(f"/me/patients/{patient}", headers=me).text
    assert "amended (version 2)" in page and "Earlier versions (1)" in page and "Pain 6/10." in page
    assert "Misread the scale." in page
    # A colleague on the care team reads the history but cannot amend someone else's note.
    other = auth("provider", provider_id=colleague)
    theirs = client.get(f"/me/patients/{patient}", headers=other).text
    assert "Earlier versions (1)" in theirs and f'action="/me/notes/{note_id}/amend"' not in theirs
    assert client.post(f"/me/notes/{note_id}/amend", headers=other,
                       data={"subjective": "x", "reason": "y"}).status_code == 403


def test_a_clinician_changes_a_phase_and_sees_the_appointments_it_makes_stale(client, app, auth):
    from datetime import timedelta

    from careplan.clinic import service as clinic
    from careplan.db import utcnow
    from tests.web.conftest import at

    with app.app_context():
        physio = factories.provider(name="Ana Moreau", hours="mon-sun 07:00-20:00")
        patient = factories.patient(name="Martha Kowalski")
        today = clinic.to_local(utcnow()).date()
        monday = today - timedelta(days=today.weekday())
        plan = factories.care_plan(patient, {"physiotherapy": physio}, start=monday, status="active",
                                   phases=(("acute", 3, "Calm it", [("physiotherapy", 1, 1, 45)]),
                                           ("subacute", 2, "Rebuild", [("physiotherapy", 1, 1, 45)])))
        # Booked in plan week 2 of the acute phase: shortening the phase to 2 weeks leaves it stale.
        factories.appointment(patient, physio, at(monday + timedelta(weeks=2, days=2), "10:00"),
                              plan_id=plan.id, phase_name="acute", plan_week=2)
        plan_id, version, patient_id, physio_id = plan.id, plan.version, patient.id, physio.id
    me = auth("provider", provider_id=physio_id)
    page = client.get(f"/me/patients/{patient_id}", headers=me).text
    assert f'action="/me/plans/{plan_id}/phases"' in page
    refused = client.post(f"/me/plans/{plan_id}/phases", headers=me,
                          data={"phase": "acute", "change": "shorten", "weeks": "3", "reason": "Better",
                                "version": str(version)})
    assert refused.status_code == 422 and "weeks: at most 2" in refused.text
    done = client.post(f"/me/plans/{plan_id}/phases", headers=me,
                       data={"phase": "acute", "change": "shorten", "weeks": "1", "reason": "Doing well",
                             "version": str(version)})
    assert done.status_code == 302
    page = client.get(f"/me/patients/{patient_id}", headers=me).text
    assert "Appointments the plan no longer asks for" in page and "no longer in the acute phase" in page
    # The re-plan is the desk's: a clinician is told so, not sent to a page that answers them 403.
    assert f'href="/desk/plans/{plan_id}/schedule"' not in page and "The front desk re-plans them" in page


def test_a_session_left_inside_time_off_is_marked_on_the_clinicians_pages(client, app, auth):
    """The clinician's patient page (their record of the patient), their day and their week say in words that a
    session needs a new time, and why; the other sessions carry no such mark."""
    from datetime import timedelta

    from careplan.clinic import service as clinic
    from careplan.providers.service import add_time_off

    with app.app_context():
        physio = factories.provider(name="Ana Moreau", hours="mon-sun 08:00-18:00").id
        patient = factories.patient(name="Martha Kowalski").id
        day = clinic.today() + timedelta(days=2)
        flagged = factories.appointment(patient, physio, clinic.local_datetime(day, datetime.min.time().replace(hour=9)))
        factories.appointment(patient, physio, clinic.local_datetime(day + timedelta(days=1),
                                                                     datetime.min.time().replace(hour=9)))
        add_time_off(physio, {"starts_at": flagged.starts_at, "ends_at": flagged.ends_at, "reason": "Ill"})
        flagged_id = flagged.id
        assert db.session.get(type(flagged), flagged_id).flag_reason
    me = auth("provider", provider_id=physio)
    page = client.get(f"/me/patients/{patient}", headers=me).text
    coming = page.split("Coming up</caption>")[1].split("</table>")[0]
    assert coming.count("Needs a new time") == 1 and coming.count('class="row--flagged"') == 1
    # The flag and why, on a line of their own across the table (in the status cell they made a column of one
    # word a line).
    columns = page.split("Coming up</caption>")[1].split("</thead>")[0].count("<th scope")
    assert f'<tr class="row--flagged row--flag-reason">\n      <td colspan="{columns}"><span class="tag tag--flag">' in coming
    assert "Needs a new time" in client.get(f"/me/day?day={day.isoformat()}", headers=me).text
    assert "Needs a new time" not in client.get(f"/me/day?day={(day + timedelta(days=1)).isoformat()}",
                                                headers=me).text
    assert "Needs a new time" in client.get(f"/me/week?day={day.isoformat()}", headers=me).text
    # The front desk's record of the patient (the same part) says so too, and each time opens the appointment's
    # page, where the desk moves it; the clinician's times lead nowhere they may not go.
    desk_record = client.get(f"/desk/patients/{patient}", headers=auth("front_desk")).text
    assert "Needs a new time" in desk_record and f'href="/desk/appointments/{flagged_id}"' in desk_record
    assert "/desk/appointments/" not in page


def test_the_clinicians_day_names_the_plan_week_as_the_desks_calendar_does(client, app, auth):
    """A session of a plan's first week (plan_week 0) says "week 1" on the clinician's day, as the desk's calendar
    says of the same session; it is not left out."""
    from datetime import timedelta

    from careplan.clinic import service as clinic

    with app.app_context():
        physio = factories.provider(name="Ana Moreau", hours="mon-sun 08:00-18:00").id
        patient = factories.patient(name="Martha Kowalski").id
        day = clinic.today() + timedelta(days=2)
        factories.appointment(patient, physio, clinic.local_datetime(day, datetime.min.time().replace(hour=9)),
                              phase_name="acute", plan_week=0)
    page = client.get(f"/me/day?day={day.isoformat()}", headers=auth("provider", provider_id=physio)).text
    # (careplan.calendar.service.session_label: "plan 12 · acute, week 1" for plan_week 0)
    assert "acute phase, week 1" in page and "week 0" not in page


def test_a_clinician_who_may_read_no_note_is_not_told_there_are_none(client, app, auth):
    """A psychotherapy note is read by its discipline's clinicians only; the physiotherapist's page said
    "No notes yet" beside it, as if the team had written nothing."""
    with app.app_context():
        physio = factories.provider(name="Ana Moreau").id
        psychotherapist = factories.provider(name="Elena Petrova", disciplines=("psychotherapy",)).id
        patient = factories.patient(name="Aisha Mohammed").id
        book(patient, physio, "physiotherapy", datetime(2027, 1, 12, 14, tzinfo=UTC))
        book(patient, psychotherapist, "psychotherapy", datetime(2027, 1, 12, 15, tzinfo=UTC))
    saved = client.post(f"/me/patients/{patient}", headers=auth("provider", provider_id=psychotherapist),
                        data={"subjective": "Sleeps badly.", "assessment": "Pain-related anxiety."})
    assert saved.status_code == 302
    page = client.get(f"/me/patients/{patient}", headers=auth("provider", provider_id=physio)).text
    assert "Sleeps badly." not in page
    assert "No notes you may read yet." in page and "No notes yet." not in page


def test_a_note_is_about_a_session_that_has_begun_the_latest_first(client, app, auth):
    """Found in use: the note's session list opened on the plan's last session, months ahead."""
    from datetime import timedelta

    from careplan.db import utcnow

    now = utcnow().replace(second=0, microsecond=0)
    with app.app_context():
        physio = factories.provider(name="Ana Moreau", hours="mon-sun 00:00-23:55").id
        patient = factories.patient(name="Martha Kowalski").id
        last_week = book(patient, physio, "physiotherapy", now - timedelta(days=7)).id
        this_morning = book(patient, physio, "physiotherapy", now - timedelta(hours=2)).id
        next_month = book(patient, physio, "physiotherapy", now + timedelta(days=30)).id
        called_off = book(patient, physio, "physiotherapy", now - timedelta(days=3), status="cancelled").id
        # Under way: in the record's past and its upcoming alike, offered once.
        under_way = book(patient, physio, "physiotherapy", now - timedelta(minutes=10)).id
    page = client.get(f"/me/patients/{patient}", headers=auth("provider", provider_id=physio)).text
    picker = page[page.index('<select id="appointment_id"'):page.index("</select>", page.index('<select id="appointment_id"'))]
    offered = [int(x) for x in re.findall(r'<option value="(\d+)"', picker)]
    assert offered == [under_way, this_morning, last_week]
    assert next_month not in offered and called_off not in offered


def test_the_clinicians_week_says_each_day_away_and_each_video_session(client, app, auth):
    """A week of time off read, day by day, "08:00-16:00 · Nothing booked" under the banner that said away."""
    from datetime import timedelta

    from careplan.clinic import service as clinic
    from careplan.providers.service import add_time_off

    with app.app_context():
        therapist = factories.provider(name="Elena Petrova", disciplines=("psychotherapy",),
                                       hours="mon-fri 08:00-16:00").id
        monday = clinic.today() + timedelta(days=7 - clinic.today().weekday())
        patient = factories.patient(name="James O'Neill", accepts_virtual=True).id
        factories.appointment(patient, therapist, clinic.local_datetime(monday, datetime.min.time().replace(hour=10)),
                              discipline="psychotherapy", virtual=True)
        add_time_off(therapist, {"starts_at": clinic.local_datetime(monday + timedelta(days=2), datetime.min.time()),
                                 "ends_at": clinic.local_datetime(monday + timedelta(days=4), datetime.min.time()),
                                 "reason": "Course"})
    page = client.get(f"/me/week?day={monday.isoformat()}", headers=auth("provider", provider_id=therapist)).text
    cards = page.split('<section class="week__day')[1:]
    assert "Psychotherapy · By video" in cards[0]
    for away in (cards[2], cards[3]):
        assert "away all day" in away and "Nothing booked" not in away
    assert "Nothing booked" in cards[1] and "Nothing booked" in cards[4] and "away" not in cards[4]
