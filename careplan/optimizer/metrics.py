"""The contract's figures of a schedule, computed from the schedule itself."""

from __future__ import annotations

import math
from collections import defaultdict

from .space import Booking, Space


def metrics(space: Space, bookings: list[Booking]) -> dict:
    demands = space.demands
    problem = space.problem
    per_day: dict[tuple[int, int], list[Booking]] = defaultdict(list)
    # With virtual sessions, visits count trips: days with an in-person appointment.
    providers: dict[tuple[int, str], set[int]] = defaultdict(set)
    first_day: dict[int, int] = {}
    misses = 0
    for booking in bookings:
        demand = demands[booking.demand]
        if not booking.virtual:
            per_day[demand.patient, booking.day].append(booking)
        providers[demand.patient, demand.discipline].add(booking.provider)
        first_day[demand.patient] = min(first_day.get(demand.patient, booking.day), booking.day)
        wanted = problem.patients[demand.patient].preferred_providers.get(demand.discipline)
        if wanted is not None and problem.providers[booking.provider].id != wanted:
            misses += 1
    idle = 0
    for day in per_day.values():
        day.sort(key=lambda b: b.start)
        idle += sum(nxt.start - prev.end - problem.transition_minutes for prev, nxt in zip(day, day[1:]))
    return {
        "demand": space.total_demand,
        "scheduled": len(bookings),
        "visits": len(per_day),
        "continuity_breaks": sum(len(seen) - 1 for seen in providers.values()),
        "idle_minutes": idle,
        "days_to_first": sum(
            day - space.clock.day_index(problem.patients[patient].earliest_start)
            for patient, day in first_day.items()
        ),
        "preference_misses": misses,
        "visits_lower_bound": visits_lower_bound(space, bookings),
    }


def visits_lower_bound(space: Space, bookings: list[Booking]) -> int:
    """Visits any valid schedule of the same sessions needs, patient week by week.

    The treatments of a plan week lie in one calendar week. In a week, two
    treatments of one discipline need two days when its spacing is at least a
    day, and the daily cap spreads the week's treatments over at least
    ceil(treatments / cap) days. The assessment may go in any week, so it
    only counts when nothing else is booked.
    """
    per_week: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    patients = set()
    for booking in bookings:
        demand = space.demands[booking.demand]
        patients.add(demand.patient)
        if demand.is_assessment or demand.virtual:
            # A session that may be held by video needs no trip in some valid schedule.
            continue
        counts = per_week[demand.patient, booking.day // 7]
        counts[""] += 1
        if space.gap_days(demand.patient, demand.discipline, booking.day) >= 1:
            counts[demand.discipline] += 1
    trips = {space.demands[b.demand].patient for b in bookings if not space.demands[b.demand].virtual}
    bound = len(trips - {patient for patient, _ in per_week})
    for (patient, _), counts in per_week.items():
        cap = space.problem.patients[patient].max_sessions_per_day or counts[""]
        spread = max((n for discipline, n in counts.items() if discipline), default=1)
        bound += max(spread, math.ceil(counts[""] / cap))
    return bound


def score(space: Space, bookings: list[Booking]) -> tuple[int, ...]:
    """The objectives in the contract's order (lower is better) for some patients' bookings.

    Compared lexicographically, so a re-solve of a few patients is accepted
    only when it is not worse for them, and hence not worse for the clinic.
    """
    patients = {space.demands[b.demand].patient for b in bookings}
    figures = metrics(space, bookings)
    hints = [(p, booking) for p, _, booking in space.hints if p in patients]
    kept = set(bookings)
    moved = sum(1 for _, booking in hints if booking not in kept)
    unmet = -figures["scheduled"]
    return (unmet, moved, figures["visits"], figures["continuity_breaks"], figures["idle_minutes"],
            figures["days_to_first"], figures["preference_misses"])
