"""Small factories for test data; each returns a committed model with sensible defaults."""
from __future__ import annotations

import itertools
from datetime import date, time

from careplan.auth import service as auth_service
from careplan.clinic.service import DAYS
from careplan.patients.service import create_patient
from careplan.providers.service import create_provider

_numbers = itertools.count(1)


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
    return create_patient(data)


def user(role: str, *, password: str | None = "correct horse battery", **links):
    n = next(_numbers)
    if role == "provider" and "provider_id" not in links:
        links["provider_id"] = provider().id
    if role == "patient" and "patient_id" not in links:
        links["patient_id"] = patient().id
    return auth_service.create_user(email=f"{role}{n}@clinic.example", role=role, password=password, **links)


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {auth_service.issue_token(user)}"}


def appointment(patient_id: int, provider_id: int, *, discipline: str = "physiotherapy", days_ahead: int = 7,
                minutes: int = 45):
    """A booked appointment, written directly: it puts the provider on the patient's care team."""
    from datetime import datetime, timedelta, timezone

    from careplan.extensions import db
    from careplan.scheduling.models import Appointment

    start = datetime.now(timezone.utc).replace(hour=15, minute=0, second=0, microsecond=0) + timedelta(days=days_ahead)
    row = Appointment(patient_id=patient_id, provider_id=provider_id, discipline_code=discipline,
                      starts_at=start, ends_at=start + timedelta(minutes=minutes))
    db.session.add(row)
    db.session.commit()
    return row


def note(patient_id: int, author, **fields):
    """A SOAP note by `author` (a provider user) about that patient."""
    from careplan.notes.service import write_note

    data = {"subjective": "Pain down the left leg, better mornings.", "assessment": "Improving."}
    data.update(fields)
    return write_note(patient_id, data, author=author)
