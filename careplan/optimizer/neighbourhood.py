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


# Patients taken beside the wanting one, per round (`week`, `clinician`), and
# the neighbouring weeks re-solved with a week.
ROUNDS = ((3, 2, 0), (5, 3, 0), (6, 4, 1))


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
        space = self.space
        plans, weeks, clinicians = [], [], []
        for patient, demands in enumerate(space.by_patient):
            mine = by_patient.get(patient, [])
            booked = Counter(b.demand for b in mine)
            first = space.assessment(patient)
            if first is not None and not booked[first.index]:
                if first.index in self.placeable:
                    plans.append((-sum(d.count for d in demands), Candidate("plan", patient, None)))
                continue
            days: dict[int, set[int]] = defaultdict(set)
            per_week: dict[int, list[Booking]] = defaultdict(list)
            seen: dict[str, set[int]] = defaultdict(set)
            for b in mine:
                demand = space.demands[b.demand]
                seen[demand.discipline].add(b.provider)
                monday = demand.end_day - 7 if not demand.is_assessment else None
                if monday is not None:
                    per_week[monday].append(b)
            for b in mine:
                for monday in per_week:
                    if monday <= b.day < monday + 7:
                        days[monday].add(b.day)
            for monday, week_demands in self.weeks[patient].items():
                unmet = sum(d.count - booked[d.index] for d in week_demands if d.index in self.placeable)
                excess = len(days.get(monday, ())) - self._week_bound(patient, per_week.get(monday, []))
                if unmet or excess > 0:
                    weeks.append(((-unmet, -excess, monday), Candidate("week", patient, monday)))
            for discipline, providers in seen.items():
                if len(providers) > 1:
                    clinicians.append((-(len(providers) - 1), Candidate("clinician", patient,
                                                                          (discipline, frozenset(providers)))))
        plans.sort(key=lambda item: item[0])
        weeks.sort(key=lambda item: item[0])
        clinicians.sort(key=lambda item: item[0])
        merged = [c for _, c in plans]
        for i in range(max(len(weeks), len(clinicians))):
            if i < len(weeks):
                merged.append(weeks[i][1])
            if i < len(clinicians):
                merged.append(clinicians[i][1])
        return merged

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
              round_: int) -> Neighbourhood | None:
        """The candidate's neighbourhood: the patient, the patients most in their way, the demands re-solved."""
        space = self.space
        week_size, clinician_size, widen = ROUNDS[min(round_, len(ROUNDS) - 1)]
        patient = candidate.patient
        holders: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
        for p, bookings in by_patient.items():
            for b in bookings:
                holders[b.provider].append((b.start, b.end, p, b.demand))
        for taken in holders.values():
            taken.sort()
        visit_days = {b.day for b in by_patient.get(patient, [])}
        own = space.by_patient[patient]
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
        blockers: Counter = Counter()
        blocking: dict[int, set[int]] = defaultdict(set)
        for demand in considered:
            for option in space.options(demand.index):
                if candidate.kind == "clinician" and option.provider not in candidate.detail[1]:
                    continue
                holder = overlapping(holders.get(option.provider, []), option.start, option.end)
                if holder is None or holder[2] == patient or holder[2] in busy:
                    continue
                blockers[holder[2]] += 3 if option.day in visit_days else 1
                blocking[holder[2]].add(holder[3])
        group = [patient] + [p for p, _ in sorted(blockers.items(), key=lambda item: (-item[1], item[0]))[:size]]
        for other in group[1:]:
            if candidate.kind == "clinician":
                # Their sessions of the disciplines in the way, over the whole plan: clinicians change hands.
                disciplines = {space.demands[d].discipline for d in blocking[other]}
                free |= {d.index for d in space.by_patient[other] if d.discipline in disciplines}
            else:
                days = [b.day for b in by_patient.get(other, []) if b.demand in blocking[other]]
                low, high = min(days) - 7 * widen, max(days) + 7 * widen + 1
                free |= {b.demand for b in by_patient.get(other, []) if low <= b.day < high}
                free |= {d.index for d in space.by_patient[other]
                         if not d.is_assessment and d.first_day < high and d.end_day > low}
            free |= blocking[other]
        key = (candidate.kind, patient, candidate.detail, round_)
        return Neighbourhood(candidate.kind, key, tuple(sorted(group)), frozenset(free))
