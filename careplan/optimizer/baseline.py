"""First-available booking: what a front desk does by hand.

Patients in order; each patient's sessions in chronological order
(assessment first, then plan week by plan week, in the plan's line order);
each at the earliest start that breaks no hard rule given what is already
booked, preferring the preferred provider, else one the patient has already
seen. Nothing booked is ever moved. In a re-plan, fixed appointments are
booked first and current appointments are kept wherever they still fit.

It is the benchmark's baseline, the optimizer's first valid schedule (so
there is an answer at once) and the starting point of the batch search.
"""

from __future__ import annotations

from .demand import Option
from .ledger import Ledger
from .space import Booking, Space


def first_available(space: Space, patients: list[int] | None = None) -> list[Booking]:
    ledger = Ledger(space)
    for booking in space.fixed:
        ledger.add(booking)
    for _, _, booking in space.hints:
        if booking is not None and ledger.blocker(space.demands[booking.demand], Option(*booking[1:])) is None:
            ledger.add(booking)
    booked: dict[int, int] = {}
    for booking in ledger.bookings:
        booked[booking.demand] = booked.get(booking.demand, 0) + 1
    order = range(len(space.problem.patients)) if patients is None else patients
    for patient in order:
        preferred = space.problem.patients[patient].preferred_providers
        for demand in space.by_patient[patient]:
            for _ in range(demand.count - booked.get(demand.index, 0)):
                wanted = preferred.get(demand.discipline)
                preferred_index = space.problem.provider(wanted).index if wanted else None
                seen = ledger.seen.get((patient, demand.discipline), set())
                choice = None
                for option in space.options(demand.index):
                    if choice is not None and option.start > choice.start:
                        break
                    if ledger.blocker(demand, option) is not None:
                        continue
                    if choice is None or _rank(option, preferred_index, seen) < _rank(choice, preferred_index, seen):
                        choice = option
                if choice is None:
                    break
                ledger.add(Booking(demand.index, *choice))
    return ledger.bookings


def _rank(option, preferred: int | None, seen: set[int]) -> int:
    if option.provider == preferred:
        return 0
    return 1 if option.provider in seen else 2

