"""The demo clinic that `make run` loads into an empty database.

A realistic small clinic: providers of every discipline (some with two) on
shifts over a Monday-to-Saturday week, some of them with time off, and a
dozen patients with the hours they can come.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from careplan.auth.models import User
from careplan.caller import Caller
from careplan.auth.service import create_user, hash_password
from careplan.clinic import service as clinic
from careplan.clinic.service import DAYS
from careplan.db import utcnow
from careplan.errors import ServiceError
from careplan.extensions import db
from careplan.intake.service import override_red_flag, record_intake
from careplan.notes.service import write_note
from careplan.patients.service import create_patient
from careplan.plans.service import build_plan, set_status
from careplan.proposals.service import book_proposal, propose
from careplan.protocols.service import CLINIC_PROTOCOLS, load_directory
from careplan.providers.service import add_time_off, create_provider
from careplan.reminders.models import OutboundEmail
from careplan.rooms.service import create_location, create_room
from careplan.scheduling.models import Appointment
from careplan.scheduling.service import book_appointment, update_appointment

# Where the demo's templates come from; the name other modules and tests have imported it by.
PROTOCOLS = CLINIC_PROTOCOLS

DEMO_PASSWORD = "demo-password"
# Short and reproducible: the demo starts in a few seconds and shows the same schedule every time.
DEMO_SOLVER = {"time_limit": 0.2, "deterministic": True}

CLINIC = {"name": "Riverside Spine & Wellness", "address": "120 King Street West, Suite 400, Toronto, ON M5H 1J9",
          "phone": "416-555-0142"}

_MON_FRI = ("mon", "tue", "wed", "thu", "fri")

# Two sites (issue 20): the main clinic downtown and a smaller one in Liberty Village, each with treatment
# tables and a gym; who works at Liberty Village on which days (every other window is at King West).
LOCATIONS = [("King West", CLINIC["address"]),
             ("Liberty Village", "60 Atlantic Avenue, Unit 110, Toronto, ON M6K 1X9")]
# location index, name, kind, capacity
ROOMS = [(0, "Table 1", "treatment-table", 1), (0, "Table 2", "treatment-table", 1),
         (0, "Table 3", "treatment-table", 1), (0, "Gym", "gym", 4),
         (1, "Table A", "treatment-table", 1), (1, "Table B", "treatment-table", 1), (1, "Studio", "gym", 3)]
ROOM_KINDS = {"physiotherapy": "treatment-table", "massage": "treatment-table", "chiropractic": "treatment-table",
              "acupuncture": "treatment-table", "kinesiology": "gym"}
LIBERTY_DAYS = {"daniel.okafor": ("sat",), "sofia.lindqvist": ("wed", "thu", "fri", "sat"),
                "grace.nakamura": ("tue",), "omar.haddad": ("mon", "fri", "sat"), "jonah.whitfield": ("sat",),
                "priya.raman": ("sat",)}
# Patients who accept video sessions, and those who only come to Liberty Village.
VIDEO_PATIENTS = ("james.oneill", "aisha.mohammed", "karen.mitchell", "linh.tran")
LIBERTY_PATIENTS = ("diego.alvarez",)
VIDEO_LINK = "https://video.riverside.example/join/"


def _shift(days, start, end):
    return [{"day": DAYS.index(d), "start": time.fromisoformat(start), "end": time.fromisoformat(end)} for d in days]


# name, e-mail, disciplines, weekly windows
PROVIDERS = [
    ("Ana Moreau", "ana.moreau", ["physiotherapy"], _shift(_MON_FRI, "08:00", "16:00")),
    ("Daniel Okafor", "daniel.okafor", ["physiotherapy", "kinesiology"],
     _shift(("mon", "wed", "fri"), "12:00", "20:00") + _shift(("sat",), "08:00", "14:00")),
    ("Priya Raman", "priya.raman", ["physiotherapy"], _shift(("tue", "thu"), "10:00", "19:00")
     + _shift(("sat",), "08:00", "13:00")),
    ("Marc Tremblay", "marc.tremblay", ["massage"], _shift(("mon", "tue", "wed", "thu"), "11:00", "19:00")),
    ("Sofia Lindqvist", "sofia.lindqvist", ["massage", "acupuncture"],
     _shift(("wed", "thu", "fri"), "09:00", "17:00") + _shift(("sat",), "09:00", "14:00")),
    ("Hugo Bellamy", "hugo.bellamy", ["chiropractic"],
     _shift(("mon", "wed"), "07:30", "12:00") + _shift(("mon", "wed"), "15:00", "19:00")
     + _shift(("fri",), "08:00", "14:00")),
    ("Grace Nakamura", "grace.nakamura", ["chiropractic"], _shift(("tue", "thu"), "09:00", "18:00")
     + _shift(("sat",), "08:00", "12:00")),
    ("Elena Petrova", "elena.petrova", ["psychotherapy"], _shift(("mon", "tue", "thu"), "10:00", "18:00")),
    ("Samuel Adeyemi", "samuel.adeyemi", ["psychotherapy", "mental_performance"],
     _shift(("wed", "fri"), "12:00", "20:00")),
    ("Claire Dubois", "claire.dubois", ["nutrition"], _shift(("tue", "wed", "thu"), "09:00", "15:00")),
    ("Omar Haddad", "omar.haddad", ["nutrition", "naturopathy"], _shift(("mon", "fri"), "13:00", "19:00")
     + _shift(("sat",), "09:00", "13:00")),
    ("Lucas Ferreira", "lucas.ferreira", ["kinesiology"], _shift(_MON_FRI, "15:00", "21:00")),
    ("Mei Chen", "mei.chen", ["acupuncture"], _shift(("mon", "tue", "thu"), "09:00", "16:00")),
    ("Rachel Goldberg", "rachel.goldberg", ["naturopathy"], _shift(("tue", "thu"), "11:00", "18:00")),
    ("Jonah Whitfield", "jonah.whitfield", ["mental_performance", "kinesiology"],
     _shift(("sat",), "08:00", "14:00") + _shift(("tue", "thu"), "16:00", "20:00")),
]

# name, e-mail, phone, date of birth, weekly windows
PATIENTS = [
    ("Martha Kowalski", "martha.kowalski", "416-555-0101", date(1968, 4, 12),
     _shift(("mon", "wed", "fri"), "09:00", "13:00")),
    ("James O'Neill", "james.oneill", "416-555-0102", date(1975, 9, 3),
     _shift(_MON_FRI, "17:00", "20:00")),
    ("Aisha Mohammed", "aisha.mohammed", "416-555-0103", date(1988, 1, 27),
     _shift(("tue", "thu"), "12:00", "18:00") + _shift(("sat",), "08:00", "14:00")),
    ("Robert Chen", "robert.chen", "416-555-0104", date(1959, 11, 30), _shift(_MON_FRI, "10:00", "15:00")),
    ("Linh Tran", "linh.tran", "647-555-0105", date(1992, 6, 18),
     _shift(("mon", "wed"), "16:00", "20:00") + _shift(("sat",), "09:00", "13:00")),
    ("Pierre Gagnon", "pierre.gagnon", "647-555-0106", date(1971, 2, 8), _shift(("tue", "thu", "fri"), "08:00", "12:00")),
    ("Fatima Yusuf", "fatima.yusuf", "647-555-0107", date(1983, 7, 22), _shift(_MON_FRI, "12:00", "17:00")),
    ("Karen Mitchell", "karen.mitchell", "416-555-0108", date(1965, 3, 14),
     _shift(("mon", "tue", "wed", "thu"), "14:00", "19:00")),
    ("Diego Alvarez", "diego.alvarez", "416-555-0109", date(1990, 10, 5),
     _shift(("wed", "fri"), "15:00", "20:00") + _shift(("sat",), "08:00", "14:00")),
    ("Hannah Schultz", "hannah.schultz", "647-555-0110", date(1979, 12, 1), _shift(_MON_FRI, "08:00", "11:00")),
    ("Tomás Novak", "tomas.novak", "647-555-0111", date(1986, 5, 29), _shift(("mon", "thu"), "11:00", "19:00")),
    ("Grace Obi", "grace.obi", "416-555-0112", date(1956, 8, 16), _shift(("tue", "wed", "thu"), "09:00", "14:00")),
]


DEMO_LOGINS = [
    ("admin", "admin@riverside.example"),
    ("front_desk", "frontdesk@riverside.example"),
    ("provider", "ana.moreau@riverside.example (every provider: first.last@riverside.example)"),
    ("patient", "martha.kowalski@mail.example (every patient: first.last@mail.example)"),
]


_NO_RED_FLAGS = {"loss_of_bladder_or_bowel_control": False, "sudden_severe_limb_weakness": False,
                 "rapidly_progressing_numbness_or_paralysis": False, "fever": False, "unexplained_weight_loss": False,
                 "night_sweats": False, "constant_pain_at_rest": False, "recent_infection": False,
                 "trauma_with_head_injury": False}


# The demo clinic is loaded by an operator's command; what its staff "did" is recorded as done by them.
LOADER = Caller.system("cli")


def _as(user) -> Caller:
    return Caller(user, "", "cli")


def _intake(patient, user, **answers):
    data = {"condition": "radiculopathy", "symptoms": [], "pain_stress_or_insomnia": False,
            "prefers_acupuncture": False, "preferences": "", "referral_signs": {}, **answers}
    data["red_flags"] = {**_NO_RED_FLAGS, **answers.get("red_flags", {})}
    try:
        return record_intake(patient.id, data, caller=_as(user))
    except ServiceError as refused:
        # A positive screen is recorded and refused; the demo keeps it to show the override.
        from careplan.intake.service import get_intake

        return get_intake(refused.extra["intake_id"])


def _either(plan, disciplines) -> None:
    """The plan's sessions of these disciplines held in person or by video, whichever the optimizer finds better."""
    for phase in plan.phases:
        for line in phase.lines:
            if line.discipline_code in disciplines:
                line.mode = "either"
    db.session.commit()


def _demo_plans(monday: date, patients, providers, desk, admin) -> None:
    """Plans in several states, so every page has something to show."""
    martha = _intake(patients[0], desk, region="lumbar", side="left", severity="moderate",
                     symptoms=["low back pain", "sciatica down the left leg", "tingling in the foot"],
                     referral_signs={"pain_below_knee": True, "pain_beyond_two_weeks_despite_rest": True})
    build_plan({"intake_id": martha.id, "start_date": monday,
                "care_team": [{"discipline": "physiotherapy", "provider_id": providers[0].id},
                              {"discipline": "massage", "provider_id": providers[3].id}]}, caller=_as(desk))
    aisha = _intake(patients[2], desk, region="cervical", side="right",
                    severity_answers={"pain_score": 8, "worsening": False, "daily_activities": "limited"},
                    symptoms=["neck pain", "pain into the right arm", "numb fingers"],
                    pain_stress_or_insomnia=True, prefers_acupuncture=True,
                    preferences="Prefers a female practitioner for hands-on care.")
    aisha_plan = build_plan({"intake_id": aisha.id, "start_date": monday + timedelta(days=1)}, caller=_as(desk))
    # She accepts video: her psychotherapy and nutrition sessions may be held so (no trip, no room).
    _either(aisha_plan, ("psychotherapy", "nutrition"))
    robert = _intake(patients[3], desk, region="lumbar", side="both", severity="severe",
                     symptoms=["low back pain", "night pain"], red_flags={"constant_pain_at_rest": True})
    override_red_flag(robert.id, "Seen by Dr. Moreau: pain eases with position change; imaging already "
                                 "ordered by the family physician, conservative care may begin.", caller=_as(admin))
    build_plan({"intake_id": robert.id, "start_date": monday}, caller=_as(desk))
    _intake(patients[5], desk, region="lumbar", side="left", severity="moderate", symptoms=["low back pain"],
            red_flags={"loss_of_bladder_or_bowel_control": True})
    linh = build_plan({"patient_id": patients[4].id, "region": "thoracic", "severity": "mild",
                       "start_date": monday - timedelta(weeks=1), "reason": "Referred by her physician; "
                       "assessed at her first visit."}, caller=_as(desk))
    # Her nutrition session either way too. Aisha's either-way sessions fall on days she comes in anyway, where
    # the optimizer has no reason to prefer video, so no either-way line of the demo was ever booked by video;
    # Linh's nutrition session in person was a Saturday trip of its own to Liberty Village, and by video it is none.
    _either(linh, ("nutrition",))
    # Booked the way the front desk books: the optimizer's proposal, then all of it at once.
    proposal = propose(linh.id, {"start_date": monday, **DEMO_SOLVER}, caller=_as(desk))
    booked = book_proposal(proposal.id, caller=_as(desk))
    # A proposal books a video session without its link (nothing in careplan makes one): the clinic's video
    # service would, so the demo writes one, as the desk gives one to a video session it books itself.
    for appointment in db.session.scalars(select(Appointment).where(Appointment.plan_id == booked.plan_id,
                                                                    Appointment.virtual.is_(True))):
        appointment.video_link = f"{VIDEO_LINK}{appointment.patient_id}-{appointment.provider_id}"
    db.session.commit()
    set_status(linh.id, "active", "Care has started.", caller=_as(desk))


# (patient index, provider index, discipline, minutes): single visits booked at the desk outside any plan,
# so that the front desk's day and the clinicians' days have people in them.
SINGLE_VISITS = [(1, 1, "physiotherapy", 45), (6, 0, "physiotherapy", 45), (7, 3, "massage", 60),
                 (9, 0, "physiotherapy", 30), (10, 12, "acupuncture", 45), (11, 6, "chiropractic", 30),
                 (8, 4, "massage", 60), (8, 6, "chiropractic", 30), (2, 1, "physiotherapy", 45),
                 (2, 4, "acupuncture", 45), (5, 6, "chiropractic", 30)]


def _starts(patient, provider, day: date, minutes: int, tz):
    """Starts on `day`, every quarter hour, inside both the patient's and the provider's hours."""
    for mine in (w for w in patient.availability if w.day == day.weekday()):
        for theirs in (w for w in provider.availability if w.day == day.weekday()):
            start = datetime.combine(day, max(mine.start, theirs.start), tzinfo=tz)
            end = datetime.combine(day, min(mine.end, theirs.end), tzinfo=tz)
            while start + timedelta(minutes=minutes) <= end:
                yield start
                start += timedelta(minutes=15)


def _demo_day(today: date, patients, providers, desk) -> None:
    """Today's single visits, booked as the desk books them; those already over are marked completed."""
    tz = clinic.zone()
    morning = datetime.combine(today, time(0), tzinfo=tz)
    for patient_index, provider_index, discipline, minutes in SINGLE_VISITS:
        patient, provider = patients[patient_index], providers[provider_index]
        for start in _starts(patient, provider, today, minutes, tz):
            try:
                # Booked before the day began, as the desk would have.
                appointment = book_appointment({"patient_id": patient.id, "provider_id": provider.id,
                                                "discipline": discipline, "start": start, "minutes": minutes},
                                               caller=_as(desk), now=morning)
            except ServiceError:
                db.session.rollback()
                continue
            if appointment.ends_at <= utcnow():
                update_appointment(appointment.id, {"status": "completed"}, caller=_as(desk))
            break


def _demo_video(monday: date, patients, providers, desk) -> None:
    """James sees his psychotherapist by video next Monday evening: no room, no trip, a link in his reminder."""
    james, elena = patients[1], providers[7]
    start = datetime.combine(monday, time(17, 0), tzinfo=clinic.zone())
    book_appointment({"patient_id": james.id, "provider_id": elena.id, "discipline": "psychotherapy",
                      "start": start, "minutes": 50, "virtual": True,
                      "video_link": f"{VIDEO_LINK}{james.id}-{elena.id}"}, caller=_as(desk))


def _demo_history(patients, desk) -> None:
    """Linh's first visit, its SOAP note, and a confirmation e-mail the mail server refused."""
    linh = patients[4]
    first = db.session.scalar(select(Appointment).where(Appointment.patient_id == linh.id)
                              .order_by(Appointment.starts_at).limit(1))
    if first is None:
        return
    author = db.session.scalar(select(User).where(User.provider_id == first.provider_id))
    write_note(linh.id, {"noted_at": utcnow() - timedelta(days=3), "discipline": first.discipline_code,
                         "subjective": "Mid-back pain between the shoulder blades for three weeks, 4/10, worse "
                                       "after long days at the computer; sleeps well.",
                         "objective": "Thoracic rotation limited to the right; tender T5-T7 paraspinals; "
                                      "neurological screen normal.",
                         "assessment": "Mild thoracic radiculopathy, mechanical; good prognosis.",
                         "plan": "Begin the mild thoracic plan next week; posture breaks every 45 minutes; "
                                 "thoracic extension over a towel roll twice a day."}, caller=_as(author))
    refused = db.session.scalar(select(OutboundEmail).where(OutboundEmail.patient_id == linh.id,
                                                            OutboundEmail.kind == "booking-confirmation"))
    if refused is not None:
        # What the dispatcher leaves after its last retry when the address bounces.
        refused.status, refused.attempts, refused.recipient = "failed", 5, linh.email
        refused.last_error = "550 5.1.1 <linh.tran@mail.example>: Recipient address rejected: mailbox unavailable"
        db.session.commit()


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def _demo_account(**account):
    """A demo login with the documented DEMO_PASSWORD, which the strength check would refuse for a real
    account: the seed sets its hash directly, and only here."""
    user = create_user(**account)
    user.password_hash = hash_password(DEMO_PASSWORD)
    db.session.commit()
    return user


# What load_demo reports to `progress`, one unit each: the clinic, every provider, the three absences, every
# patient, every account, the protocols, the plans, today's visits and the history.
DEMO_STEPS = 1 + len(PROVIDERS) + 3 + len(PATIENTS) + 2 + len(PROVIDERS) + len(PATIENTS) + 4


def load_demo(today: date | None = None, progress: Callable[[str], None] = lambda step: None) -> None:
    """Create the demo clinic around the weeks after `today`; `progress(step)` is called DEMO_STEPS times."""
    clinic.update_settings(CLINIC)
    # The clinic's date, not the machine's: in Toronto's evening the server's UTC date is already tomorrow, and
    # today's visits were seeded there (the desk's Today and calendar opened empty).
    today = today or clinic.today()
    sites = [create_location({"name": name, "address": address}, caller=LOADER) for name, address in LOCATIONS]
    for site, name, kind, capacity in ROOMS:
        create_room({"location_id": sites[site].id, "name": name, "kind": kind, "capacity": capacity}, caller=LOADER)
    for code, kind in ROOM_KINDS.items():
        clinic.update_discipline(code, {"room_kind": kind})
    progress("clinic")
    tz = clinic.zone()
    monday = _next_monday(today)

    providers = []
    for name, handle, disciplines, windows in PROVIDERS:
        at = [{**w, "location_id": sites[1 if DAYS[w["day"]] in LIBERTY_DAYS.get(handle, ()) else 0].id}
              for w in windows]
        providers.append(create_provider({"name": name, "email": f"{handle}@riverside.example",
                                          "discipline_codes": disciplines, "availability": at}))
        progress("providers")
    # A week's vacation and a day at a course, a few weeks out, so re-planning has something to work around.
    for provider, offset_days, length_days, reason in ((providers[0], 21, 5, "Vacation"),
                                                       (providers[3], 9, 1, "Continuing education course"),
                                                       (providers[7], 35, 7, "Vacation")):
        start = datetime.combine(monday + timedelta(days=offset_days), time(0), tzinfo=tz)
        add_time_off(provider.id, {"starts_at": start, "ends_at": start + timedelta(days=length_days),
                                   "reason": reason})
        progress("time off")

    patients = []
    for name, handle, phone, born, windows in PATIENTS:
        patients.append(create_patient({"name": name, "email": f"{handle}@mail.example", "phone": phone,
                                        "date_of_birth": born, "availability": windows,
                                        "accepts_virtual": handle in VIDEO_PATIENTS,
                                        "location_ids": [sites[1].id] if handle in LIBERTY_PATIENTS else []},
                                       caller=LOADER))
        progress("patients")

    admin = _demo_account(email="admin@riverside.example", role="admin")
    progress("accounts")
    desk = _demo_account(email="frontdesk@riverside.example", role="front_desk")
    progress("accounts")
    for provider in providers:
        _demo_account(email=provider.email, role="provider", provider_id=provider.id)
        progress("accounts")
    for patient in patients:
        _demo_account(email=patient.email, role="patient", patient_id=patient.id)
        progress("accounts")

    load_directory(CLINIC_PROTOCOLS, user_id=admin.id)
    progress("protocols")
    _demo_plans(monday, patients, providers, desk, admin)
    progress("plans")
    _demo_day(today, patients, providers, desk)
    _demo_video(monday, patients, providers, desk)
    progress("today's visits")
    _demo_history(patients, desk)
    progress("history")
