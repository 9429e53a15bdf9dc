"""Which appointments the batch re-solves together (its large-neighbourhood search).

A neighbourhood is a few patients and the demands of theirs that are
re-solved (`free`); their other appointments stay exactly as they are, and
so do everyone else's. Fixing most of each plan keeps a re-solve small
(a fraction of a second), so many more of them fit in the time than
re-solves of whole plans; the rules and objectives still see the whole
plans. Kinds, chosen from the current schedule:

* `week`: a patient's plan week with unmet sessions or more visits than the
  week needs, together with the patients whose appointments hold the
  clinicians' time at that patient's options that week (holders on the days
  the patient already comes in weigh three times): their sessions of the
  same week are re-solved too, so slots change hands and visits bundle;
* `clinician`: a patient seeing several clinicians of one discipline,
  together with the patients holding those clinicians' time at the
  patient's options: both sides' sessions of the disciplines concerned are
  re-solved over the whole plan, so patients can exchange clinicians;
* `plan`: a patient whose assessment is not booked (so nothing is), with
  the patients holding the time at their assessment's options.

Larger rounds (more patients, neighbouring weeks too) follow when a round
has nothing left to improve.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import NamedTuple

from .demand import Demand
from .space import Booking, Space, overlapping


class Neighbourhood(NamedTuple):
    kind: str
    key: tuple
    patients: tuple[int, ...]
    free: frozenset[int]


class Candidate(NamedTuple):
    kind: str
    patient: int
    # `week`: the Monday (horizon day) of the week; `clinician`: (discipline, providers).
    detail: object


# Per round: patients taken beside the wanting one (`week`/`plan`,
# `clinician`), neighbouring weeks re-solved with a week, and patients in
# the way of those (the chain).
ROUNDS = ((3, 2, 0, 0), (5, 3, 0, 1), (6, 4, 1, 2))
CLINICIANS_PER_WEEK = 4


class Chooser:
    def __init__(self, space: Space):
        self.space = space
        # Each patient's treatment demands by the Monday of their week.
        self.weeks: list[dict[int, list[Demand]]] = []
        for demands in space.by_patient:
            weeks: dict[int, list[Demand]] = defaultdict(list)
            for demand in demands:
                if not demand.is_assessment:
                    weeks[demand.end_day - 7].append(demand)
            self.weeks.append(weeks)
        self.placeable = {d.index for d in space.demands if space.options(d.index)}

    def candidates(self, by_patient: dict[int, list[Booking]]) -> list[Candidate]:
        """What could improve, most wanting first: weeks and clinicians interleaved."""
        plans, weeks, clinicians = [], [], []
        for patient in range(len(self.space.by_patient)):
            for rank, candidate in self.wanting(patient, by_patient.get(patient, [])):
                {"plan": plans, "week": weeks, "clinician": clinicians}[candidate.kind].append((rank, candidate))
        plans.sort(key=lambda item: item[0])
        weeks.sort(key=lambda item: item[0])
        clinicians.sort(key=lambda item: item[0])
        merged = [c for _, c in plans]
        # Four clinicians per week: measured on 100-plan intakes, a clinician
        # neighbourhood improves the schedule about 75% of the times it is
        # tried, a week one about 40%; with four, more sessions were booked
        # (s8521 +18, s9733 +2 against two per week, same CPU time).
        for i in range(max(len(weeks), -(-len(clinicians) // CLINICIANS_PER_WEEK))):
            if i < len(weeks):
                merged.append(weeks[i][1])
            merged.extend(c for _, c in clinicians[CLINICIANS_PER_WEEK * i:CLINICIANS_PER_WEEK * (i + 1)])
        return merged

    def wanting(self, patient: int, mine: list[Booking]) -> list[tuple[tuple, Candidate]]:
        """The patient's candidates with their ranks (lower first): unbooked plan, weeks, clinicians."""
        space = self.space
        booked = Counter(b.demand for b in mine)
        first = space.assessment(patient)
        if first is not None and not booked[first.index]:
            if first.index not in self.placeable:
                return []
            return [((-sum(d.count for d in space.by_patient[patient]),), Candidate("plan", patient, None))]
        found = []
        per_week: dict[int, list[Booking]] = defaultdict(list)
        seen: dict[str, set[int]] = defaultdict(set)
        for b in mine:
            demand = space.demands[b.demand]
            seen[demand.discipline].add(b.provider)
            if not demand.is_assessment:
                per_week[demand.end_day - 7].append(b)
        for monday, week_demands in self.weeks[patient].items():
            unmet = sum(d.count - booked[d.index] for d in week_demands if d.index in self.placeable)
            days = {b.day for b in mine if monday <= b.day < monday + 7}
            excess = len(days) - self._week_bound(patient, per_week.get(monday, []))
            if unmet or excess > 0:
                found.append(((-unmet, -excess, monday), Candidate("week", patient, monday)))
        for discipline, providers in seen.items():
            if len(providers) > 1:
                found.append(((-(len(providers) - 1),), Candidate("clinician", patient,
                                                                  (discipline, frozenset(providers)))))
        return found

    def _week_bound(self, patient: int, bookings: list[Booking]) -> int:
        """Visit days a week's treatments need at least (spacing, daily cap), as `metrics.visits_lower_bound`."""
        if not bookings:
            return 0
        space = self.space
        counts: Counter = Counter()
        for b in bookings:
            demand = space.demands[b.demand]
            if space.gap_days(patient, demand.discipline, b.day) >= 1:
                counts[demand.discipline] += 1
        cap = space.problem.patients[patient].max_sessions_per_day or len(bookings)
        return max(max(counts.values(), default=1), math.ceil(len(bookings) / cap))

    def build(self, candidate: Candidate, by_patient: dict[int, list[Booking]], busy: set[int],
              round_: int, held: dict | None = None) -> Neighbourhood:
        """The candidate's neighbourhood: the patient, the patients most in their way, the demands re-solved.

        Then a chain: the patients holding the time those blockers could
        move to (so that the blocker of a blocker can make room too).
        """
        space = self.space
        week_size, clinician_size, widen, chain = ROUNDS[min(round_, len(ROUNDS) - 1)]
        patient = candidate.patient
        # Each provider's appointments as sorted (start, end, patient, demand): the
        # batch keeps them (`held`), or they are gathered from the schedule.
        holders = held
        if holders is None:
            holders = defaultdict(list)
            for p, bookings in by_patient.items():
                for b in bookings:
                    holders[b.provider].append((b.start, b.end, p, b.demand))
            for taken in holders.values():
                taken.sort()
        own = space.by_patient[patient]
        providers = None
        if candidate.kind == "plan":
            free = {d.index for d in own}
            considered = [space.assessment(patient)]
            size = week_size
        elif candidate.kind == "week":
            low, high = candidate.detail - 7 * widen, candidate.detail + 7 + 7 * widen
            free = {d.index for d in own if not d.is_assessment and d.first_day < high and d.end_day > low}
            free |= {b.demand for b in by_patient.get(patient, []) if low <= b.day < high}
            considered = self.weeks[patient].get(candidate.detail, [])
            size = week_size
        else:
            discipline, providers = candidate.detail
            free = {d.index for d in own if d.discipline == discipline}
            considered = [d for d in own if d.discipline == discipline]
            size = clinician_size
        group = [patient]
        visit_days = {b.day for b in by_patient.get(patient, [])}
        blockers, blocking = self._in_the_way(considered, holders, set(group) | busy, providers, visit_days)
        first = [p for p, _ in sorted(blockers.items(), key=lambda item: (-item[1], item[0]))[:size]]
        group += first
        for other in first:
            free |= self._freed(candidate.kind, other, blocking[other], by_patient, widen)
        if chain and first:
            # Only the sessions in the way on either side, to keep the re-solve small.
            considered = [space.demands[d] for other in first for d in blocking[other]]
            blockers, second_blocking = self._in_the_way(considered, holders, set(group) | busy, None, set())
            second = [p for p, _ in sorted(blockers.items(), key=lambda item: (-item[1], item[0]))[:chain]]
            group += second
            for other in second:
                free |= second_blocking[other]
        key = (candidate.kind, patient, candidate.detail, round_)
        return Neighbourhood(candidate.kind, key, tuple(sorted(group)), frozenset(free))

    def _in_the_way(self, considered: list[Demand], holders: dict, excluded: set[int], providers: frozenset | None,
                    visit_days: set[int]) -> tuple[Counter, dict[int, set[int]]]:
        """Who holds the time at these demands' options (with `providers` only), weighted
        three times on `visit_days`; and the demands of theirs in the way."""
        blockers: Counter = Counter()
        blocking: dict[int, set[int]] = defaultdict(set)
        for demand in considered:
            for option in self.space.options(demand.index):
                if providers is not None and option.provider not in providers:
                    continue
                holder = overlapping(holders.get(option.provider, []), option.start, option.end)
                if holder is None or holder[2] in excluded:
                    continue
                blockers[holder[2]] += 3 if option.day in visit_days else 1
                blocking[holder[2]].add(holder[3])
        return blockers, blocking

    def _freed(self, kind: str, other: int, blocking: set[int], by_patient: dict[int, list[Booking]],
               widen: int) -> set[int]:
        """What a patient in the way re-solves: for `clinician`, their sessions of the disciplines in
        the way over the whole plan (clinicians change hands); otherwise their weeks in the way."""
        space = self.space
        if kind == "clinician":
            disciplines = {space.demands[d].discipline for d in blocking}
            return {d.index for d in space.by_patient[other] if d.discipline in disciplines} | blocking
        days = [b.day for b in by_patient.get(other, []) if b.demand in blocking]
        low, high = min(days) - 7 * widen, max(days) + 7 * widen + 1
        freed = {b.demand for b in by_patient.get(other, []) if low <= b.day < high}
        freed |= {d.index for d in space.by_patient[other]
                  if not d.is_assessment and d.first_day < high and d.end_day > low}
        return freed | blocking
