"""Small factories for test data; each returns a committed model with sensible defaults."""
from __future__ import annotations

import itertools
from datetime import date, time

from careplan.auth import service as auth_service
from careplan.caller import Caller
from careplan.clinic.service import DAYS
from careplan.patients.service import create_patient
from careplan.providers.service import create_provider

_numbers = itertools.count(1)

# Who the factories and the service-level tests act as: an operator's command, nobody signed in.
CALLER = Caller.system("cli")


def caller(user, origin: str = "api") -> Caller:
    """A caller signed in as `user`, for a service called as that user would call it."""
    return Caller(user, "127.0.0.1", origin)


def windows(spec: str) -> list[dict]:
    """windows("mon-fri 08:00-16:00, sat 09:00-12:00") -> availability rows."""
    rows = []
    for part in spec.split(","):
        days, hours = part.split()
        start, end = hours.split("-")
        if "-" in days:
            first, last = days.split("-")
            chosen = DAYS[DAYS.index(first): DAYS.index(last) + 1]
        else:
            chosen = [days]
        rows += [{"day": DAYS.index(d), "start": time.fromisoformat(start), "end": time.fromisoformat(end)}
                 for d in chosen]
    return rows


def provider(*, disciplines=("physiotherapy",), hours="mon-fri 08:00-16:00", **fields):
    n = next(_numbers)
    data = {"name": f"Provider {n}", "email": f"provider{n}@clinic.example",
            "discipline_codes": list(disciplines), "availability": windows(hours) if hours else []}
    data.update(fields)
    return create_provider(data)


def patient(*, hours="mon-fri 09:00-17:00", **fields):
    n = next(_numbers)
    data = {"name": f"Patient {n}", "email": f"patient{n}@mail.example", "phone": f"416-555-{n:04d}",
            "date_of_birth": date(1970, 1, 1) + (date(1970, 1, 2) - date(1970, 1, 1)) * n,
            "availability": windows(hours) if hours else []}
    data.update(fields)
    return create_patient(data, caller=CALLER)


def user(role: str, *, password: str | None = "correct horse battery", **links):
    n = next(_numbers)
    if role == "provider" and "provider_id" not in links:
        links["provider_id"] = provider().id
    if role == "patient" and "patient_id" not in links:
        links["patient_id"] = patient().id
    return auth_service.create_user(email=f"{role}{n}@clinic.example", role=role, password=password, **links)


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {auth_service.issue_token(user)}"}


def care_plan(patient, team: dict, *, start=date(2027, 3, 1), status="booked", assessment=None,
              phases=(("acute", 2, "Calm the irritation", [("physiotherapy", 2, 1, 45)]),)):
    """A plan with `team` {discipline: provider} and phases (name, weeks, purpose, [(discipline, per_week, every_weeks, minutes)])."""
    from careplan.extensions import db
    from careplan.plans.models import CarePlan, CareTeamMember, Phase, SessionLine

    plan = CarePlan(patient_id=patient.id, status=status, region="lumbar", severity="moderate", start_date=start,
                    assessment_discipline=assessment, assessment_minutes=60 if assessment else None,
                    care_team=[CareTeamMember(discipline_code=code, provider_id=p.id) for code, p in team.items()],
                    phases=[Phase(position=i, name=name, weeks=weeks, purpose=purpose,
                                  lines=[SessionLine(discipline_code=code, per_week=per_week, every_weeks=every,
                                                     minutes=minutes) for code, per_week, every, minutes in lines])
                            for i, (name, weeks, purpose, lines) in enumerate(phases, start=1)])
    db.session.add(plan)
    db.session.commit()
    return plan


_new_patient, _new_provider = patient, provider


def appointment(patient=None, provider=None, starts_at=None, *, minutes=45, discipline=None, days_ahead=7, **fields):
    """An appointment written straight to the table (no booking rules), committed; for past or odd situations.

    `patient` and `provider` are models or ids (new ones when left out); without `starts_at` it is
    15:00 UTC `days_ahead` days from now. It puts the provider on the patient's care team.
    """
    from datetime import datetime, timedelta, timezone

    from careplan.patients.models import Patient
    from careplan.providers.models import Provider

    from careplan.extensions import db
    from careplan.scheduling.models import Appointment

    if isinstance(patient, int):
        patient = db.session.get(Patient, patient)
    if isinstance(provider, int):
        provider = db.session.get(Provider, provider)
    if starts_at is None:
        starts_at = (datetime.now(timezone.utc).replace(hour=15, minute=0, second=0, microsecond=0)
                     + timedelta(days=days_ahead))
    discipline = discipline or (provider.discipline_codes[0] if provider else "physiotherapy")
    patient = patient or _new_patient()
    provider = provider or _new_provider(disciplines=(discipline,))
    row = Appointment(patient_id=patient.id, provider_id=provider.id, discipline_code=discipline,
                      starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), **fields)
    db.session.add(row)
    db.session.commit()
    return row


NO_RED_FLAGS = {"loss_of_bladder_or_bowel_control": False, "sudden_severe_limb_weakness": False,
                "rapidly_progressing_numbness_or_paralysis": False, "fever": False, "unexplained_weight_loss": False,
                "night_sweats": False, "constant_pain_at_rest": False, "recent_infection": False,
                "trauma_with_head_injury": False}


def confirmations_sent() -> None:
    """The booking confirmations queued so far have gone out (as a dispatcher does within a minute), so a later
    cancellation tells the patient; one still unsent would rather leave the cancelled appointment out."""
    from sqlalchemy import update

    from careplan.db import utcnow
    from careplan.extensions import db
    from careplan.reminders.models import OutboundEmail

    db.session.execute(update(OutboundEmail).where(OutboundEmail.kind == "booking-confirmation",
                                                   OutboundEmail.status == "pending")
                       .values(status="sent", sent_at=utcnow()))
    db.session.commit()


def protocols():
    """The clinic's protocol templates from config/protocols/."""
    from careplan import REPOSITORY
    from careplan.protocols.service import load_directory

    return load_directory(REPOSITORY / "config" / "protocols")


def intake_body(**answers) -> dict:
    """An intake as the API takes it: a clear screen unless red_flags say otherwise."""
    body = {"region": "lumbar", "side": "left", "severity": "moderate", "symptoms": ["low back pain"]}
    body.update(answers)
    body["red_flags"] = {**NO_RED_FLAGS, **answers.get("red_flags", {})}
    return body


def plan(patient_id=None, *, region="lumbar", severity="moderate", start_date=None, **data):
    """A draft plan built from the current template (load `protocols()` first)."""
    from careplan.plans.service import build_plan

    return build_plan({"patient_id": patient_id or patient().id, "region": region, "severity": severity,
                       "start_date": start_date or date(2027, 1, 6), **data}, caller=CALLER)


def note(patient_id: int, author, **fields):
    """A SOAP note by `author` (a provider user) about that patient."""
    from careplan.notes.service import write_note

    data = {"subjective": "Pain down the left leg, better mornings.", "assessment": "Improving."}
    data.update(fields)
    return write_note(patient_id, data, caller=caller(author))


def proposal(plan_id: int, **fields):
    """A live proposal row for a plan, holding nothing (no optimizer run), committed."""
    from datetime import datetime, timedelta, timezone

    from careplan.extensions import db
    from careplan.plans.models import CarePlan
    from careplan.proposals.models import Proposal

    plan = db.session.get(CarePlan, plan_id)
    row = Proposal(plan_id=plan.id, plan_version=plan.version, kind="plan", status="live",
                   expires_at=datetime.now(timezone.utc) + timedelta(minutes=15), problem={},
                   solution={"status": "FEASIBLE"}, **fields)
    db.session.add(row)
    db.session.commit()
    return row


def plan_week(*, weeks_ahead: int = 2, **patient_fields) -> dict:
    """A booked plan's week `weeks_ahead` weeks from now: physiotherapy Monday 10:00 and Thursday 10:00 with
    Ana Moreau, massage Wednesday 10:00 with Marc Tremblay; Ben Okafor, another physiotherapist, works the same
    hours. Returns ids, the Monday and `at(days_after_monday, "HH:MM")` in the clinic's zone."""
    from datetime import datetime, timedelta
    from datetime import time as clock

    from careplan.clinic import service as clinic
    from careplan.extensions import db
    from careplan.scheduling.models import Appointment

    today = datetime.now(clinic.zone()).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    ana = provider(name="Ana Moreau", hours="mon-fri 08:00-16:00")
    ben = provider(name="Ben Okafor", hours="mon-fri 08:00-16:00")
    marc = provider(name="Marc Tremblay", disciplines=("massage",), hours="mon-fri 08:00-16:00")
    someone = patient(hours="mon-fri 09:00-17:00", **patient_fields)
    booked = care_plan(someone, {"physiotherapy": ana, "massage": marc}, start=monday,
                       phases=(("acute", 2, "Calm", [("physiotherapy", 2, 1, 45), ("massage", 1, 1, 60)]),))
    zone = clinic.zone()

    def at(days: int, hhmm: str) -> datetime:
        return datetime.combine(monday + timedelta(days=days), clock.fromisoformat(hhmm), tzinfo=zone)

    rows = [Appointment(patient_id=someone.id, provider_id=who.id, discipline_code=code, starts_at=at(day, "10:00"),
                        ends_at=at(day, "10:00") + timedelta(minutes=length), plan_id=booked.id, phase_name="acute",
                        plan_week=0)
            for who, code, day, length in ((ana, "physiotherapy", 0, 45), (marc, "massage", 2, 60),
                                           (ana, "physiotherapy", 3, 45))]
    db.session.add_all(rows)
    db.session.commit()
    return {"patient": someone.id, "ana": ana.id, "ben": ben.id, "marc": marc.id, "monday": monday, "at": at,
            "plan": booked.id, "sessions": [r.id for r in rows], "moving": rows[2].id}


def location(name: str | None = None, **fields):
    from careplan.rooms.service import create_location

    return create_location({"name": name or f"Site {next(_numbers)}", "address": "12 King St E, Toronto",
                            **fields}, caller=CALLER)


def room(location_id: int, kind: str = "treatment-table", *, capacity: int = 1, name: str | None = None):
    """A room of `kind` at the location; the disciplines needing it are set with `needs_room`."""
    from careplan.rooms.service import create_room

    return create_room({"location_id": location_id, "name": name or f"Room {next(_numbers)}", "kind": kind,
                        "capacity": capacity}, caller=CALLER)


def needs_room(discipline: str, kind: str | None = "treatment-table") -> None:
    from careplan.clinic.service import update_discipline

    update_discipline(discipline, {"room_kind": kind})


def busy_clinic(patients: int = 8, *, weeks: int = 8, start=None) -> list[int]:
    """Draft plans of `patients` patients competing for three physiotherapists and two massage therapists
    (each plan: physiotherapy twice a week and massage weekly for `weeks` weeks, with an assessment): a
    batch the optimizer keeps improving for many seconds. Returns the plan ids."""
    from datetime import date, timedelta

    start = start or date.today() + timedelta(days=14 - date.today().weekday())
    physios = [provider(hours=hours) for hours in ("mon-fri 08:00-12:00", "mon-wed 12:00-18:00", "thu-fri 09:00-17:00")]
    massage = [provider(disciplines=("massage",), hours=hours) for hours in ("mon-fri 09:00-13:00", "tue-thu 14:00-18:00")]
    windows = ("mon-fri 08:00-11:00", "mon-fri 14:00-18:00", "tue 09:00-17:00, thu 09:00-17:00",
               "mon 10:00-16:00, wed 10:00-16:00, fri 10:00-16:00")
    plans = []
    for i in range(patients):
        someone = patient(hours=windows[i % len(windows)])
        plans.append(care_plan(someone, {"physiotherapy": physios[i % 3], "massage": massage[i % 2]}, start=start,
                               status="draft", assessment="physiotherapy",
                               phases=(("acute", weeks // 2, "Calm", [("physiotherapy", 2, 1, 45), ("massage", 1, 1, 60)]),
                                       ("subacute", weeks - weeks // 2, "Build", [("physiotherapy", 2, 1, 45),
                                                                                  ("massage", 1, 1, 60)]))).id)
    return plans


def clinic_morning(app, monkeypatch) -> None:
    """Put the clinic in a fixed-offset time zone where it is about 09:00 now, for the test's length: a scenario
    built on the real clock ("today", "later today") then has the day ahead of it at any hour the suite runs
    (in Toronto's late evening "later today at 23:00" had already begun)."""
    from datetime import datetime, timezone

    offset = (9 - datetime.now(timezone.utc).hour + 12) % 24 - 12
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT")
