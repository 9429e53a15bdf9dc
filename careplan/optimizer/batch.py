"""Many patients in one run: improve a first-available schedule piece by piece.

A single CP-SAT model of a clinic's whole intake is too large to solve in a
minute, so the batch starts from the first-available schedule (valid at
once) and re-solves small neighbourhoods with everyone else's appointments
held fixed:

1. each patient alone, in order (stage 1 of their plan, exactly optimised
   around the others);
2. then, while time remains, each patient with unmet demand, then each with
   visits above their week-by-week bound, together with the (up to three)
   patients whose appointments take the providers at that patient's
   options, so slots can change hands when that books more or bundles
   better;
3. then each plan's stage 2 (idle time, earliest care, preferences).

A re-solve is accepted only when the neighbourhood's objectives, compared
in the contract's order, are not worse; every step is valid and the clinic's
totals never get worse, so the result never books fewer sessions than the
first-available schedule. The last share of the time proves each plan's
visits floor.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter, defaultdict
from typing import Callable

from .metrics import score, visits_lower_bound
from .model import PlanModel
from .space import Booking, Space


# Share of the time limit kept to prove each plan's visits lower bound.
BOUND_SHARE = 0.15
# Up to this many patients, the visits bound is also proven for all of them
# in one model: in a full intake the other patients take the bundling
# options, which no plan's own bound can see (30 plans: 302 visits proven
# against 283 from the plans' own bounds). With more patients the model takes
# seconds to build and CP-SAT proves nothing useful within a minute.
JOINT_BOUND_PATIENTS = 40
# Share kept for the bounds when the joint one is tried.
JOINT_BOUND_SHARE = 0.3
# Share kept for stage 2 (idle time, earliest care, preferences) of each plan.
COMFORT_SHARE = 0.2


class Batch:
    def __init__(self, space: Space, start: list[Booking], time_limit: float, deterministic: bool,
                 say: Callable[[str], None]):
        self.space = space
        self.deterministic = deterministic
        self.say = say
        self.budget = time_limit
        self.spent = 0.0
        self.clock_start = time.perf_counter()
        self.by_patient: dict[int, list[Booking]] = defaultdict(list)
        for booking in start:
            self.by_patient[space.demands[booking.demand].patient].append(booking)

    def remaining(self) -> float:
        """Budget left: deterministic time in deterministic mode, else wall-clock seconds."""
        used = self.spent if self.deterministic else time.perf_counter() - self.clock_start
        return self.budget - used

    def bookings(self) -> list[Booking]:
        return [b for patient in sorted(self.by_patient) for b in self.by_patient[patient]]

    def _occupied(self, outside: set[int]) -> dict[int, list[tuple[int, int]]]:
        occupied: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for patient, bookings in self.by_patient.items():
            if patient not in outside:
                for booking in bookings:
                    occupied[booking.provider].append((booking.start, booking.end))
        return occupied

    def resolve(self, patients: list[int], seconds: float, polish: bool = False) -> bool:
        """Re-solve these patients around everyone else; keep the result if not worse.

        Without `polish`, stage 1 (demand, moves, visits, continuity); with
        it, stage 2 alone (the comfort of each day) for the current schedule.
        """
        group = set(patients)
        before = [b for p in patients for b in self.by_patient.get(p, [])]
        model = PlanModel(self.space, patients, self._occupied(group))
        if polish:
            outcome = model.polish(before, seconds, self.deterministic)
        else:
            outcome = model.solve(before, seconds, self.deterministic, comfort=False, workers=1)
        self.spent += outcome.deterministic_time if self.deterministic else outcome.wall_time
        if score(self.space, outcome.bookings) > score(self.space, before):
            return False
        improved = score(self.space, outcome.bookings) < score(self.space, before)
        for p in patients:
            self.by_patient[p] = []
        for booking in outcome.bookings:
            self.by_patient[self.space.demands[booking.demand].patient].append(booking)
        return improved

    def run(self) -> None:
        space = self.space
        patients = list(range(len(space.problem.patients)))
        # Keep time at the end for each plan's comfort, and to prove a visits
        # lower bound for each plan.
        self.bound_share = JOINT_BOUND_SHARE if len(patients) <= JOINT_BOUND_PATIENTS else BOUND_SHARE
        self.reserve = self.budget * (self.bound_share + COMFORT_SHARE)
        # Pass 1: each plan optimised on its own, in intake order.
        for n, patient in enumerate(patients):
            left = self.remaining() - self.reserve
            if left <= 0:
                break
            share = max(0.05, min(1.0, 0.6 * left / (len(patients) - n)))
            self.resolve([patient], share)
        self.say(f"each plan optimised: {self._summary()}")
        # Pass 2: patients missing sessions, then those with the most visits
        # above their week-by-week bound, each with the patients in their way.
        tried: set[tuple[int, ...]] = set()
        while self.remaining() - self.reserve > 0.5:
            group = self._next_neighbourhood(tried)
            if group is None:
                break
            tried.add(tuple(group))
            if self.resolve(group, min(2.0, self.remaining() - self.reserve)):
                self.say(f"re-planned patients {', '.join(space.problem.patients[p].id for p in group)} "
                         f"together: {self._summary()}")
        # Pass 3: each plan's days made as comfortable as its figures allow.
        self.reserve = self.budget * self.bound_share
        for n, patient in enumerate(patients):
            left = self.remaining() - self.reserve
            if left <= 0:
                break
            if self.by_patient.get(patient):
                self.resolve([patient], max(0.02, min(1.0, left / (len(patients) - n))), polish=True)
        self.say(f"days made comfortable: {self._summary()}")

    def visits_bound(self) -> int:
        """A proven floor on the visits of exactly the sessions booked.

        First the sum over plans of each one's floor without the others: a
        plan whose visits already equal its week-by-week bound needs no
        more; the others are tried, widest gap first, in part of the time
        left. Then, for a batch small enough, the floor of all the plans
        together in the rest; both are valid, so the larger is kept.
        """
        space = self.space
        floors = {p: visits_lower_bound(space, b) for p, b in self.by_patient.items() if b}
        gaps = sorted((floors[p] - len({b.day for b in self.by_patient[p]}), p) for p in floors)
        wanting = [p for gap, p in gaps if gap < 0]
        joint = bool(wanting) and len(space.problem.patients) <= JOINT_BOUND_PATIENTS
        # The plans' own floors are cheap; most of the time goes to the joint one.
        own_until = self.remaining() * (0.7 if joint else 0.0)
        for n, patient in enumerate(wanting):
            seconds = (self.remaining() - own_until) / (len(wanting) - n)
            if seconds < 0.02:
                break
            model = PlanModel(space, [patient], {})
            floor, deterministic_time, wall_time = model.visits_floor(
                self.by_patient[patient], seconds, self.deterministic)
            self.spent += deterministic_time if self.deterministic else wall_time
            floors[patient] = max(floors[patient], floor)
        bound = sum(floors.values())
        visits = sum(len({b.day for b in self.by_patient[p]}) for p in floors)
        if joint and bound < visits and self.remaining() > 0.5:
            model = PlanModel(space, sorted(floors), {})
            seconds = self.remaining()
            if seconds > 0.2:
                floor, deterministic_time, wall_time = model.visits_floor(self.bookings(), seconds, self.deterministic)
                self.spent += deterministic_time if self.deterministic else wall_time
                bound = max(bound, floor)
        return bound

    def _summary(self) -> str:
        figures = score(self.space, self.bookings())
        return f"{-figures[0]} of {self.space.total_demand} sessions, {figures[2]} visits"

    def _next_neighbourhood(self, tried: set[tuple[int, ...]]) -> list[int] | None:
        """The most wanting patient not yet tried, with the (up to three) patients most in their way."""
        space = self.space
        booked = Counter(b.demand for b in self.bookings())
        holders: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for patient, bookings in self.by_patient.items():
            for b in bookings:
                holders[b.provider].append((b.start, b.end, patient))
        for taken in holders.values():
            taken.sort()
        wanting = []
        for patient in range(len(space.problem.patients)):
            unmet = sum(d.count - booked[d.index] for d in space.by_patient[patient])
            mine = self.by_patient.get(patient, [])
            excess = len({b.day for b in mine}) - visits_lower_bound(space, mine)
            if unmet or excess:
                wanting.append((-unmet, -excess, patient))
        for _, _, patient in sorted(wanting):
            blockers: Counter = Counter()
            for demand in space.by_patient[patient]:
                for option in space.options(demand.index):
                    taken = holders.get(option.provider, [])
                    i = bisect.bisect_left(taken, (option.end,))
                    if i > 0 and taken[i - 1][1] > option.start and taken[i - 1][2] != patient:
                        blockers[taken[i - 1][2]] += 1
            group = tuple(sorted([patient] + [p for p, _ in blockers.most_common(3)]))
            if len(group) > 1 and group not in tried:
                return list(group)
        return None
