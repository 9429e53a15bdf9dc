"""Clinicians exchanged between patients, every appointment kept at its time.

Re-solves pick a few patients at once, so two patients who each see the
other's usual clinician at the same hour keep their continuity breaks: moving
one alone would clash with the other. With every appointment held at its
day, time, place and room, who delivers it is an assignment problem over the
whole intake, small enough to solve at once (a 100-plan intake: about 1,800
appointments with a handful of qualified, free clinicians each). Sessions,
visits, idle time and first days are those of the times, so they cannot get
worse; what changes is continuity, and after it the preferred clinicians
(the contract's sixth objective, below the idle time and first days that the
times fix).
"""

from __future__ import annotations

from collections import defaultdict

from .sat import Model, total
from .space import Booking, Space


def exchange(space: Space, bookings: list[Booking], pinned: set[Booking], seconds: float,
             deterministic: bool, workers: int = 1) -> tuple[list[Booking], float, float]:
    """The same appointments with their clinicians reassigned for fewest breaks, then preference misses.

    `pinned` appointments keep their clinician (fixed ones, and those a
    re-plan counts as moved when they change). Returns the bookings, CP-SAT's
    deterministic time and wall time; the bookings given when nothing better is found.
    """
    problem = space.problem
    model = Model()
    # Per appointment, its clinician choices: {provider: literal}.
    choices: list[dict[int, object]] = []
    for booking in bookings:
        if booking in pinned:
            choices.append({booking.provider: None})
            continue
        same = _alternatives(space, booking)
        choices.append({p: model.new_bool_var() for p in same} if len(same) > 1 else {booking.provider: None})
    if all(len(c) == 1 for c in choices):
        return bookings, 0.0, 0.0
    for choice in choices:
        if len(choice) > 1:
            model.add(total(choice.values()) == 1)
    # No clinician holds two appointments at once: at each appointment's start,
    # those that may be theirs and cover that moment are a clique.
    by_provider: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for i, (booking, choice) in enumerate(zip(bookings, choices)):
        for provider in choice:
            by_provider[provider].append((booking.start, booking.end, i))
    for provider, held in by_provider.items():
        held.sort()
        active: list[tuple[int, int]] = []
        for start, end, i in held:
            active = [(e, j) for e, j in active if e > start]
            active.append((end, i))
            if len(active) > 1:
                literals = [choices[j][provider] for _, j in active]
                if all(lit is None for lit in literals):
                    continue
                fixed = sum(1 for lit in literals if lit is None)
                free = [lit for lit in literals if lit is not None]
                if fixed:
                    for lit in free:
                        model.add(lit == 0)
                else:
                    model.add_at_most_one(free)
    # Continuity: a clinician counts for a patient's discipline once any of its appointments is theirs.
    groups: dict[tuple[int, str], dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for booking, choice in zip(bookings, choices):
        demand = space.demands[booking.demand]
        for provider, literal in choice.items():
            groups[demand.patient, demand.discipline][provider].append(literal)
    seen_terms = []
    for by_clinician in groups.values():
        for literals in by_clinician.values():
            if any(lit is None for lit in literals):
                seen_terms.append(1)
                continue
            seen = model.new_bool_var()
            for lit in literals:
                model.add_implication(lit, seen)
            seen_terms.append(seen)
    misses = []
    for booking, choice in zip(bookings, choices):
        demand = space.demands[booking.demand]
        wanted = problem.patients[demand.patient].preferred_providers.get(demand.discipline)
        if wanted is None:
            continue
        for provider, literal in choice.items():
            if problem.providers[provider].id != wanted:
                misses.append(1 if literal is None else literal)
    model.minimize(total(seen_terms) * (len(bookings) + 1) + total(misses))
    model.hint({lit: int(p == b.provider) for b, choice in zip(bookings, choices)
                for p, lit in choice.items() if lit is not None})
    result = model.solve(seconds, deterministic, workers=workers)
    if not result.found:
        return bookings, result.deterministic_time, result.wall_time
    chosen = []
    for booking, choice in zip(bookings, choices):
        provider = next(p for p, lit in choice.items() if lit is None or result.boolean_value(lit))
        chosen.append(booking._replace(provider=provider))
    return chosen, result.deterministic_time, result.wall_time


def _alternatives(space: Space, booking: Booking) -> list[int]:
    """The clinicians who could hold this appointment as it is (their calendars, the patient's, the plan)."""
    return sorted({o.provider for o in space.options(booking.demand)
                   if o.start == booking.start and o.end == booking.end and o.location == booking.location
                   and o.room == booking.room and o.virtual == booking.virtual} | {booking.provider})
