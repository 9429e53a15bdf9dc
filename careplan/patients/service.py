"""Patients and when they can come."""
from __future__ import annotations

from sqlalchemy import or_, select

from careplan.audit.service import record
from careplan.caller import Caller
from careplan.auth.access import care_team_patient_ids
from careplan.auth.models import User
from careplan.clinic.service import settings as clinic_settings
from careplan.errors import Conflict, Invalid
from careplan.extensions import db
from careplan.notes.models import Note
from careplan.patients.models import Patient, PatientAvailability
from careplan.rooms.models import Location
from careplan.plans.models import CarePlan
from careplan.scheduling.models import Appointment
from careplan.records import get_or_404
from careplan.versions import check_version, count_change


def list_patients(*, q: str | None = None, care_team_of: int | None = None):
    """All patients, or with `care_team_of` only those whose care team that provider is on."""
    query = select(Patient).order_by(Patient.name, Patient.id)
    if care_team_of is not None:
        query = query.where(Patient.id.in_(care_team_patient_ids(care_team_of)))
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(or_(Patient.name.ilike(pattern), Patient.email.ilike(pattern), Patient.phone.like(pattern)))
    return query


def get_patient(patient_id: int) -> Patient:
    return get_or_404(Patient, patient_id, f"No patient {patient_id}.")


def _apply(patient: Patient, data: dict) -> None:
    if data.get("max_sessions_per_day") is not None:
        most = clinic_settings().max_sessions_per_day
        if data["max_sessions_per_day"] > most:
            raise Invalid(f"A patient's record may lower the clinic's limit of {most} sessions a day, not raise it.",
                          fields={"max_sessions_per_day": f"at most {most}, the clinic's limit"})
    if "availability" in data:
        patient.availability = [PatientAvailability(day=w["day"], start=w["start"], end=w["end"])
                                for w in data["availability"]]
    if "location_ids" in data:
        rows = [db.session.get(Location, i) for i in data["location_ids"]]
        unknown = {f"location_ids[{n}]": f"no location {i}" for n, (i, row) in enumerate(zip(data["location_ids"], rows))
                   if row is None}
        if unknown:
            raise Invalid("Unknown location.", fields=unknown)
        patient.locations = list(dict.fromkeys(rows))
    for key in ("name", "email", "phone", "date_of_birth", "reminder_opt_out", "max_sessions_per_day", "language",
                "accepts_virtual"):
        if key in data:
            setattr(patient, key, data[key].lower() if key == "email" else data[key])


def create_patient(data: dict, *, caller: Caller) -> Patient:
    patient = Patient(name=data["name"], email=data["email"].lower())
    _apply(patient, data)
    db.session.add(patient)
    db.session.flush()
    record("create", "patient", patient.id, patient.id, caller=caller)
    db.session.commit()
    return patient


def update_patient(patient_id: int, data: dict, *, caller: Caller, expected_version=None) -> Patient:
    """`expected_version`: the version the caller read (careplan.versions); None applies the change anyway."""
    patient = get_patient(patient_id)
    check_version(patient, expected_version)
    _apply(patient, data)
    count_change(patient)
    record("update", "patient", patient.id, patient.id, detail="changed " + ", ".join(sorted(data)), caller=caller)
    db.session.commit()
    return patient


def delete_patient(patient_id: int, *, caller: Caller, expected_version=None) -> None:
    """Only a record created by mistake goes: a patient with plans, appointments or a login is kept."""
    patient = get_patient(patient_id)
    check_version(patient, expected_version)
    for model, column in ((Appointment, Appointment.patient_id), (CarePlan, CarePlan.patient_id),
                          (User, User.patient_id), (Note, Note.patient_id)):
        if db.session.scalar(select(model.id).where(column == patient.id).limit(1)) is not None:
            raise Conflict("This patient has plans, appointments, notes or a user account on record; "
                           "a health record is kept, not deleted.")
    record("delete", "patient", patient.id, patient.id, caller=caller)
    db.session.delete(patient)
    db.session.commit()
