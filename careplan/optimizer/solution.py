"""Writing a schedule as the contract's solution document."""

from __future__ import annotations

from .explain import explain
from .metrics import metrics
from .space import Booking, Space


def document(space: Space, bookings: list[Booking], status: str, seconds: float, extra: dict | None = None,
             visits_bound: int | None = None) -> dict:
    problem = space.problem
    clock = space.clock
    bookings = sorted(bookings, key=lambda b: (space.demands[b.demand].patient, b.start, b.demand))
    # Kept means the patient's same session at the same time, as the model counts it: an assessment placed in
    # a treatment's slot, or another patient's session in it, moved that one (found in use: a re-plan called
    # the assessment kept, and the service never booked it).
    hinted = {(problem.patients[p].id, h.provider, clock.minute(h.start), h.discipline, h.kind): h
              for p, h, _ in space.hints}
    fixed = set(space.fixed)
    replanned = {p.index for p in problem.patients if p.current}
    appointments = []
    for booking in bookings:
        demand = space.demands[booking.demand]
        provider = problem.providers[booking.provider].id
        appointment = {
            "patient": problem.patients[demand.patient].id,
            "provider": provider,
            "discipline": demand.discipline,
            "kind": demand.kind,
            "phase": demand.phase,
            "week": demand.week,
            "start": clock.iso(booking.start),
            "end": clock.iso(booking.end),
        }
        if problem.extended:
            appointment["mode"] = "virtual" if booking.virtual else "in_person"
            appointment["location"] = problem.locations[booking.location].id if booking.location >= 0 else None
            appointment["room"] = problem.rooms[booking.room].id if booking.room >= 0 else None
        if demand.patient in replanned:
            if booking in fixed:
                appointment["rebooking"] = "fixed"
            elif (appointment["patient"], provider, booking.start, demand.discipline, demand.kind) in hinted:
                appointment["rebooking"] = "kept"
            else:
                appointment["rebooking"] = "new"
        appointments.append(appointment)
    figures = metrics(space, bookings)
    if visits_bound is not None:
        figures["visits_lower_bound"] = max(figures["visits_lower_bound"], visits_bound)
    if space.hints:
        kept = {(problem.patients[space.demands[b.demand].patient].id, problem.providers[b.provider].id, b.start,
                 space.demands[b.demand].discipline, space.demands[b.demand].kind) for b in bookings}
        figures["moved"] = sum(1 for key in hinted if key not in kept)
    unscheduled = []
    for demand, reason in explain(space, bookings):
        unscheduled.append({
            "patient": problem.patients[demand.patient].id,
            "discipline": demand.discipline,
            "kind": demand.kind,
            "phase": demand.phase,
            "week": demand.week,
            "reason": reason,
        })
    result = {
        "version": 1,
        "status": status,
        "appointments": appointments,
        "unscheduled": unscheduled,
        "metrics": figures,
        "solve_seconds": round(seconds, 3),
    }
    if extra:
        result.update(extra)
    return result


def current_appointments(appointments: list[dict]) -> list[dict]:
    """A solution's appointments as a patient's current `appointments` in a problem (re-planning hints)."""
    return [{"provider": a["provider"], "discipline": a["discipline"], "kind": a["kind"], "phase": a["phase"],
             "week": a["week"], "start": a["start"][:16],
             **{key: a[key] for key in ("mode", "location", "room") if a.get(key) is not None}}
            for a in appointments]
