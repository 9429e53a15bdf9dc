"""Earlier-slot offers: a patient asks to be told when an earlier time opens for a session; a cancellation
offers its freed time by e-mail to the few requests it fits best; the first to accept gets it, the others
are told it is gone; an offer expires. Nothing moves without the patient's yes.

Two accepts at the same moment: each moves its own appointment onto the same clinician's time, which the
appointments' overlap guards (PostgreSQL exclusion constraints, SQLite triggers) and the offers' one-taker
unique index let through once; the other is answered "gone".
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from careplan.audit.service import note_denied, record
from careplan.caller import Caller
from careplan.clinic import service as clinic
from careplan.db import utcnow
from careplan.errors import Conflict, NotFound
from careplan.extensions import db
from careplan.patients.models import Patient
from careplan.portal.models import EarlierSlotRequest, SlotOffer
from careplan.plans.models import CarePlan
from careplan.portal.service import candidates, own_appointment, plan_week_window
from careplan.providers.models import Provider
from careplan.reminders.models import OutboundEmail
from careplan.scheduling.attention import lock_providers
from careplan.scheduling.models import ACTIVE_STATUSES, Appointment
from careplan.scheduling.service import (Booking, appointment_cancelled, check_booking, find_conflicts, move_to,
                                         overlap_guard)

# Statuses of a session that has taken place (or was missed): its plan has started.
PAST_STATUSES = ("completed", "no_show")
# A freed time is offered to this many patients at once.
OFFERS_PER_SLOT = 3
# An offer stands this long (and never past the freed time's start).
OFFER_HOURS = 6
SALT = "careplan.slot-offer"


def ask_for_earlier(caller: Caller, appointment_id: int, *, patient_id: int,
                    now: datetime | None = None) -> EarlierSlotRequest:
    """Remember that the patient would take an earlier time for this session (once: asking again keeps
    the first request and its place in the queue)."""
    now = now or utcnow()
    appointment = own_appointment(appointment_id, patient_id)
    if appointment.status not in ACTIVE_STATUSES or appointment.starts_at <= now:
        raise Conflict(gettext("This appointment can no longer be moved."), fields={"appointment_id": "not upcoming"})
    existing = db.session.scalar(select(EarlierSlotRequest).where(
        EarlierSlotRequest.appointment_id == appointment_id, EarlierSlotRequest.status == "open"))
    if existing is not None:
        return existing
    request = EarlierSlotRequest(patient_id=patient_id, appointment_id=appointment_id, created_at=now)
    db.session.add(request)
    db.session.flush()
    record("create", "earlier_slot_request", request.id, patient_id,
           detail=f"for appointment {appointment_id} ({caller.origin})", caller=caller)
    db.session.commit()
    return request


def open_requests(patient_id: int) -> set[int]:
    """The ids of the patient's appointments waiting for an earlier time."""
    return set(db.session.scalars(select(EarlierSlotRequest.appointment_id).where(
        EarlierSlotRequest.patient_id == patient_id, EarlierSlotRequest.status == "open")))


def opens_a_plan(session: Appointment) -> bool:
    """The first session of a plan waiting to start: the plan is booked (not yet active) and none of its
    sessions came before this one (none completed, missed or still to come earlier)."""
    if session.plan_id is None:
        return False
    plan = db.session.get(CarePlan, session.plan_id)
    if plan is None or plan.status != "booked":
        return False
    first = db.session.scalar(select(Appointment.id).where(
        Appointment.plan_id == plan.id, Appointment.status.in_(ACTIVE_STATUSES + PAST_STATUSES))
        .order_by(Appointment.starts_at, Appointment.id).limit(1))
    return first == session.id


def plan_openers(patient_id: int) -> set[int]:
    """The patient's sessions that open a plan waiting to start (the portal offers to start sooner)."""
    sessions = db.session.scalars(select(Appointment).join(CarePlan, CarePlan.id == Appointment.plan_id).where(
        Appointment.patient_id == patient_id, CarePlan.status == "booked",
        Appointment.status.in_(ACTIVE_STATUSES), Appointment.starts_at > utcnow()))
    return {session.id for session in sessions if opens_a_plan(session)}


def earliest_for(session: Appointment) -> datetime | None:
    """How early a freed time may be to serve this session: the start of its plan week, or for the first session
    of a plan waiting to start, any time from now on (None): starting care sooner is the point of asking."""
    return None if opens_a_plan(session) else plan_week_window(session)[0]


def _fits(request: EarlierSlotRequest, freed: Appointment) -> bool:
    """The freed time would serve this request's session: earlier, still in its plan week (any earlier week
    for the first session of a plan waiting to start), and every rule the alternatives keep (the clinician
    gives the discipline and is free, the patient's windows and sessions, the spacing)."""
    session = request.appointment
    if (session.status not in ACTIVE_STATUSES or session.patient_id == freed.patient_id
            or session.discipline_code != freed.discipline_code or session.starts_at <= freed.starts_at):
        return False
    earliest = earliest_for(session)
    if earliest is not None and freed.starts_at < earliest:
        return False
    end = freed.starts_at + timedelta(minutes=session.minutes)
    return any(option.provider_id == freed.provider_id and option.start == freed.starts_at
               for option in candidates(session, freed.starts_at, end + timedelta(minutes=1)))


@appointment_cancelled.connect
def offer_freed_slot(freed: Appointment, *, caller: Caller, now: datetime | None = None) -> list[SlotOffer]:
    """After a cancellation (inside its transaction; flushes, never commits): offer the freed time to the
    open requests it fits best, by e-mail. Ranked as the backfill ranks: continuity (the clinician already
    treats them) first, then the most days gained, then who asked first."""
    now = now or utcnow()
    if freed.starts_at <= now:
        return []
    db.session.flush()
    requests = [r for r in db.session.scalars(select(EarlierSlotRequest).join(EarlierSlotRequest.appointment).where(
        EarlierSlotRequest.status == "open", Appointment.discipline_code == freed.discipline_code,
        Appointment.starts_at > freed.starts_at)) if _fits(r, freed)]
    requests.sort(key=lambda r: (r.appointment.provider_id != freed.provider_id,
                                 -(r.appointment.starts_at - freed.starts_at), r.created_at, r.id))
    expires = min(now + timedelta(hours=OFFER_HOURS), freed.starts_at)
    offers = []
    for request in requests[:OFFERS_PER_SLOT]:
        offer = SlotOffer(request_id=request.id, freed_appointment_id=freed.id, provider_id=freed.provider_id,
                          starts_at=freed.starts_at,
                          ends_at=freed.starts_at + timedelta(minutes=request.appointment.minutes),
                          expires_at=expires, created_at=now)
        db.session.add(offer)
        db.session.flush()
        db.session.add(OutboundEmail(kind="slot-offer", patient_id=request.patient_id,
                                     appointment_id=request.appointment_id, due_at=now,
                                     payload={"offer_id": offer.id}))
        record("create", "slot_offer", offer.id, request.patient_id,
               detail=f"time of appointment {freed.id} offered for appointment {request.appointment_id}",
               caller=caller)
        offers.append(offer)
    db.session.flush()
    return offers


def offers_of(freed_appointment_id: int) -> list[tuple[SlotOffer, str]]:
    """The offers a cancelled appointment's time made, with each patient's name, first offered first: the desk's
    backfill page says who was e-mailed the time (found in use: it said nobody could use the slot while an
    offer went out)."""
    rows = db.session.execute(
        select(SlotOffer, Patient.name).join(SlotOffer.request)
        .join(Patient, Patient.id == EarlierSlotRequest.patient_id)
        .where(SlotOffer.freed_appointment_id == freed_appointment_id).order_by(SlotOffer.id))
    return [(offer, name) for offer, name in rows]


def offer_token(offer: SlotOffer) -> str:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT).dumps({"o": offer.id})


def offer_url(offer: SlotOffer) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/api/v1/slot-offers/{offer_token(offer)}"


def read_offer(token: str, *, caller: Caller, now: datetime | None = None) -> tuple[SlotOffer, str | None]:
    """The offer and why it cannot be accepted now (None when it can); NotFound for a link we did not sign."""
    try:
        data = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT).loads(token)
    except BadSignature:
        # Links need no sign-in, so a forged one is the only trace of someone trying them.
        note_denied("slot_offer", "", detail="not a link this clinic signed", caller=caller)
        raise NotFound(gettext("This link is not valid.")) from None
    offer = db.session.get(SlotOffer, data.get("o")) if isinstance(data, dict) and isinstance(data.get("o"), int) \
        else None
    if offer is None:
        raise NotFound(gettext("This link is not valid."))
    return offer, _problem(offer, now or utcnow())


def _problem(offer: SlotOffer, now: datetime) -> str | None:
    if offer.status == "accepted":
        return gettext("You have taken this time already.")
    if offer.status == "gone":
        return gettext("Sorry, this time has gone to another patient.")
    if now >= offer.expires_at:
        return gettext("Sorry, this offer has expired.")
    if offer.request.appointment.status not in ACTIVE_STATUSES:
        return gettext("This appointment can no longer be moved.")
    return None


def accept_offer(caller: Caller, token: str, *, now: datetime | None = None) -> SlotOffer:
    """The patient's yes: their session moves to the offered time, atomically; the other offers of that time
    are gone (and their patients told). A time taken meanwhile answers Conflict and nothing moves."""
    now = now or utcnow()
    offer, problem = read_offer(token, now=now, caller=caller)
    if problem:
        raise Conflict(problem, fields={"offer": offer.status})
    session = offer.request.appointment
    booking = Booking(patient_id=session.patient_id, provider_id=offer.provider_id,
                      discipline=session.discipline_code, start=offer.starts_at, minutes=session.minutes)
    gone = Conflict(gettext("Sorry, this time has gone to another patient."), fields={"offer": "gone"})
    # Patients taking the same freed time queue on its clinician, as bookings and moves do.
    lock_providers([offer.provider_id])
    try:
        with overlap_guard([booking], [session.id]):
            check_booking(booking, now)
            if find_conflicts([booking], [session.id], now=now):
                raise gone
            previous = session.starts_at
            move_to(session, offer.provider_id, offer.starts_at, offer.ends_at, now)
            offer.status, offer.answered_at = "accepted", now
            offer.request.status = "fulfilled"
            for other in db.session.scalars(select(SlotOffer).where(
                    SlotOffer.freed_appointment_id == offer.freed_appointment_id, SlotOffer.id != offer.id,
                    SlotOffer.status == "offered")):
                other.status = "gone"
                db.session.add(OutboundEmail(kind="slot-gone", patient_id=other.request.patient_id,
                                             appointment_id=other.request.appointment_id, due_at=now,
                                             payload={"offer_id": other.id}))
            provider = db.session.get(Provider, offer.provider_id)
            record("update", "appointment", session.id, session.patient_id,
                   detail=f"moved by the patient ({caller.origin}, earlier-slot offer {offer.id}): "
                          f"{clinic.to_local(previous):%Y-%m-%d %H:%M} -> "
                          f"{clinic.to_local(offer.starts_at):%Y-%m-%d %H:%M} with {provider.name}", caller=caller)
            db.session.commit()
    except Conflict:
        raise gone from None
    except IntegrityError:
        # The one-taker index: another accept of the same time committed first.
        db.session.rollback()
        raise gone from None
    return offer
