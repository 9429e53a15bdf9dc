"""The CP-SAT model of one or more patients' care plans.

One boolean per (demand, option): the sessions of one (patient, plan week,
discipline) are interchangeable, so choosing at most `count` of the
demand's (provider, start) options removes all symmetry between them. Every
rule is stated on those booleans:

* a patient's appointments (stretched by the transition time) and a
  provider's appointments never overlap: at every option's start, at most
  one chosen option covers it (for intervals, pairwise overlap means a
  common start point, so these cliques are exact and tight);
* the assessment comes first: an option may only be chosen once an
  assessment option ending before it is;
* spacing, the daily cap and the waiting limit per patient and day;
* visits, providers per discipline and the first visit day as auxiliary
  variables exact in both directions; idle time (stage 2 only) as the cost
  of a unit flow through each visit day's sessions.

Appointments of patients outside the model are fixed: their providers'
times are removed from the options before the model is built.

The objectives are solved in two stages, each a weighted sum whose weights
make it lexicographic: (unmet demand, appointments moved, visits, continuity
breaks), then with those held at their values (idle minutes, days to first,
preference misses). A later stage can never cost an earlier one.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass, field

from .demand import Option
from . import observe, resources, sat
from .sat import total
from .space import Booking, Space, overlapping


# Stage 1 (demand, moves, visits, continuity) is proven fastest by a small
# portfolio: on generated single plans four workers used about half the CPU
# time of one worker with the strongest relaxation, which in turn proves
# stage 2 (idle time) 2-4x faster than any portfolio.
STAGE1_WORKERS = 4


@dataclass
class Outcome:
    bookings: list[Booking]
    proven: bool
    stage1_proven: bool
    visits_bound: int | None
    scheduled_bound: int
    deterministic_time: float = 0.0
    wall_time: float = 0.0
    levels: dict = field(default_factory=dict)


def _sweep_cliques(items: list[tuple[int, int, object]]) -> list[list[object]]:
    """For intervals (start, end, var): the vars covering each distinct start."""
    items = sorted(items, key=lambda item: item[0])
    cliques = []
    active: list[tuple[int, object]] = []
    i = 0
    while i < len(items):
        t = items[i][0]
        active = [(end, var) for end, var in active if end > t]
        while i < len(items) and items[i][0] == t:
            active.append((items[i][1], items[i][2]))
            i += 1
        if len(active) > 1:
            cliques.append([var for _, var in active])
    return cliques


class PlanModel:
    def __init__(self, space: Space, patients: list[int], occupied: dict[int, list[tuple[int, int]]],
                 probing: bool = True, free: frozenset[int] | None = None, keep: list[Booking] = ()):
        """`free`/`keep` (the batch's neighbourhoods): only the demands in `free` get
        options; every other demand of these patients keeps exactly its bookings
        in `keep`, so the rules and objectives still see the whole plans."""
        self.space = space
        self.free = free
        self.keep = keep
        # The batch's many small re-solves skip CP-SAT's probing: measured on
        # 100-plan neighbourhoods, the same optima proven in about 20% less time.
        self.probing = probing
        # Tell the observer (careplan.optimizer.observe), if any, of each better schedule: set when this
        # model holds every patient of the problem, so its figures are the solve's.
        self.report = False
        self.patients = patients
        self.model = sat.Model()
        self.x: dict[tuple[int, Option], object] = {}
        self.occupied = occupied
        self._build_options(occupied)
        self._state_rules()
        self._state_objectives()

    def _build_options(self, occupied: dict[int, list[tuple[int, int]]]) -> None:
        space = self.space
        busy = {p: sorted(intervals) for p, intervals in occupied.items()}
        fixed = {(b.demand, Option(*b[1:])) for b in space.fixed}
        self.demands = [d for p in self.patients for d in space.by_patient[p]]
        assessment_end: dict[int, int] = {}
        kept = self._kept()
        fixed |= {(d, option) for d, options in kept.items() for option in options}
        # A neighbourhood's kept appointments hold their patient's time (with the
        # transition): a free option overlapping one could never be chosen, so it
        # gets no variable (measured: most of a re-solve's time is building it).
        transition = space.problem.transition_minutes
        held: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for d, options in kept.items():
            for option in options:
                held.setdefault((space.demands[d].patient, option.day), []).append(
                    (option.start - transition, option.end + transition))
        # Options are listed first, variables made after: kept appointments on days
        # too far from any free option to interact with it are left out (below).
        listed: list[tuple[int, Option, bool]] = []
        free_days: dict[int, set[int]] = {}
        for demand in self.demands:
            is_free = self.free is None or demand.index in self.free
            options = space.options(demand.index) if is_free else kept.get(demand.index, [])
            for option in options:
                if overlapping(busy.get(option.provider, []), option.start, option.end):
                    continue
                if is_free and held and any(start < option.end and option.start < end for start, end in
                                            held.get((demand.patient, option.day), ())):
                    continue
                if demand.is_assessment:
                    assessment_end[demand.patient] = min(assessment_end.get(demand.patient, option.end), option.end)
                elif demand.patient in assessment_end and option.start < assessment_end[demand.patient]:
                    continue
                listed.append((demand.index, option, is_free))
                if is_free:
                    free_days.setdefault(demand.patient, set()).add(option.day)
        self.pruned: list[tuple[int, Option]] = []
        prunable = self._prunable()
        away: dict[int, list[tuple[int, int]]] = {}
        if prunable:
            near = {patient: {day + k for day in free_days.get(patient, ()) for k in range(1 - reach, reach)}
                    for patient, reach in prunable.items()}
            for d, option, is_free in listed:
                patient = space.demands[d].patient
                if not is_free and patient in near and option.day not in near[patient]:
                    # Nothing re-solved that day or near it: the appointment only holds its
                    # provider's time (for the group's other patients) and counts in the objectives.
                    self.pruned.append((d, option))
                    away.setdefault(option.provider, []).append((option.start, option.end))
            for intervals in away.values():
                intervals.sort()
        pruned = set(self.pruned)
        self.fixed_vars: set[int] = set()
        for d, option, is_free in listed:
            if (d, option) in pruned or (is_free and overlapping(away.get(option.provider, []), option.start,
                                                                  option.end)):
                continue
            var = self.model.new_bool_var()
            self.x[d, option] = var
            if (d, option) in fixed:
                self.model.add(var == 1)
                self.fixed_vars.add(var.index)
        # A plan with an assessment that has no option at all can book nothing.
        for patient in self.patients:
            if space.assessment(patient) is not None and patient not in assessment_end:
                for key in [k for k in self.x if space.demands[k[0]].patient == patient]:
                    del self.x[key]

    def _prunable(self) -> dict[int, int]:
        """Patients whose kept appointments far from the re-solved ones may stay out of the model, with
        how many days apart such a day must be (the widest spacing of their plan: no spacing rule reaches
        further; daily cap, waiting and overlaps are per day). Not when the assessment is re-solved (the
        whole plan must follow it), nor with rooms (shared capacity) or re-planning (moves counted by
        variable), which keep every appointment in the model."""
        space = self.space
        if self.free is None or space.problem.rooms or space.hints:
            return {}
        prunable = {}
        for patient in self.patients:
            first = space.assessment(patient)
            if first is not None and first.index in self.free:
                continue
            prunable[patient] = max([1, *space._gaps[patient].values()])
        return prunable

    def _kept(self) -> dict[int, list[Option]]:
        """Outside `free`: each demand's kept bookings, the only options it gets (fixed)."""
        if self.free is None:
            return {}
        kept: dict[int, list[Option]] = {}
        for b in self.keep:
            if b.demand not in self.free:
                kept.setdefault(b.demand, []).append(Option(*b[1:]))
        for options in kept.values():
            options.sort(key=lambda o: (o.start, o.provider))
        return kept

    def _state_rules(self) -> None:
        m = self.model
        space = self.space
        problem = space.problem
        transition = problem.transition_minutes
        self.by_demand: dict[int, list] = {}
        by_demand = self.by_demand
        by_patient: dict[int, list] = {}
        by_provider: dict[int, list] = {}
        self.by_day: dict[tuple[int, int], list] = {}
        for (d, option), var in self.x.items():
            demand = space.demands[d]
            by_demand.setdefault(d, []).append(var)
            by_patient.setdefault(demand.patient, []).append((option.start, option.end + transition, var))
            by_provider.setdefault(option.provider, []).append((option.start, option.end, var))
            self.by_day.setdefault((demand.patient, option.day), []).append((demand, option, var))
        for d, variables in by_demand.items():
            m.add(total(variables) <= space.demands[d].count)
        for items in by_patient.values():
            for clique in _sweep_cliques(items):
                m.add_at_most_one(clique)
        if len(self.patients) > 1:
            for items in by_provider.values():
                for clique in _sweep_cliques(items):
                    m.add_at_most_one(clique)
        self._assessment_first()
        self._spacing()
        self._days()
        resources.state_rooms(self)
        resources.state_locations(self)

    def _assessment_first(self) -> None:
        m = self.model
        space = self.space
        for patient in self.patients:
            first = space.assessment(patient)
            if first is None or (self.free is not None and first.index not in self.free):
                # A kept assessment is fixed, and options starting before it ends got no variable.
                continue
            ends: dict[int, list] = {}
            others = []
            for (d, option), var in self.x.items():
                if d == first.index:
                    ends.setdefault(option.end, []).append(var)
                elif space.demands[d].patient == patient:
                    others.append((option.start, var))
            if not ends:
                continue
            times = sorted(ends)
            done = []
            previous = 0
            for t in times:
                flag = m.new_bool_var()
                m.add(flag == previous + total(ends[t]))
                done.append(flag)
                previous = flag
            for start, var in others:
                k = bisect.bisect_right(times, start) - 1
                if k < 0:
                    m.add(var == 0)
                else:
                    m.add_implication(var, done[k])

    def _spacing(self) -> None:
        m = self.model
        space = self.space
        per_day: dict[tuple[int, str], dict[int, list]] = {}
        for (d, option), var in self.x.items():
            demand = space.demands[d]
            if not demand.is_assessment:
                per_day.setdefault((demand.patient, demand.discipline), {}).setdefault(option.day, []).append(var)
        for (patient, discipline), days in per_day.items():
            ordered = sorted(days)
            gap = {day: space.gap_days(patient, discipline, day) for day in ordered}
            for i, first in enumerate(ordered):
                if gap[first] >= 1 and len(days[first]) > 1:
                    m.add_at_most_one(days[first])
                for second in ordered[i + 1:]:
                    if second - first >= max(gap[first], 7):
                        break
                    if second - first < max(gap[first], gap[second]):
                        m.add(total(days[first]) + total(days[second]) <= 1)

    def _days(self) -> None:
        """Daily cap, waiting limit and visits per patient and day; days that may
        hold two sessions or more are kept for stage 2's idle time."""
        m = self.model
        problem = self.space.problem
        transition = problem.transition_minutes
        max_wait = problem.max_wait_minutes
        self.visit: dict[tuple[int, int], object] = {}
        # A day with any session (a visit, or only virtual sessions: no trip).
        self.attend: dict[tuple[int, int], object] = {}
        self.bundle_days = []
        for (patient, day), items in self.by_day.items():
            variables = [var for _, _, var in items]
            cap = problem.patients[patient].max_sessions_per_day or len(variables)
            cap = min(cap, len(variables))
            visit = m.new_bool_var()
            self.visit[patient, day] = visit
            trips = [item for item in items if not item[1].virtual]
            if len(trips) == len(items):
                self.attend[patient, day] = visit
                m.add(total(variables) <= cap * visit)
                m.add_bool_or(variables + [visit.Not()])
            else:
                self.attend[patient, day] = resources.virtual_day(m, variables, [v for _, _, v in trips], cap, visit)
            if cap < 2 or not trips:
                continue
            if max_wait is not None and not all(var.index in self.fixed_vars for var in variables):
                self._waiting(trips, max_wait, transition)
            self.bundle_days.append((trips, visit))

    def _waiting(self, items: list, max_wait: int, transition: int) -> None:
        """An appointment preceded that day by one ending too early needs one in between."""
        m = self.model
        ends = sorted(((o.end, var) for _, o, var in items), key=lambda item: item[0])
        end_times = [e for e, _ in ends]
        thresholds = sorted({o.start - max_wait - 1 for _, o, _ in items if o.start - max_wait - 1 >= end_times[0]})
        if not thresholds:
            return
        early = {}
        previous = None
        for t in thresholds:
            flag = m.new_bool_var()
            if previous is not None:
                m.add_implication(previous, flag)
            early[t] = flag
            previous = flag
        for end, var in ends:
            k = bisect.bisect_left(thresholds, end)
            if k < len(thresholds):
                m.add_implication(var, early[thresholds[k]])
        for _, option, var in items:
            t = option.start - max_wait - 1
            if t not in early:
                continue
            low = bisect.bisect_left(end_times, option.start - max_wait)
            high = bisect.bisect_right(end_times, option.start - transition)
            between = [v for _, v in ends[low:high]]
            m.add_bool_or(between + [var.Not(), early[t].Not()])


    def _day_flow(self, items: list, visit, transition: int, max_wait: int | None):
        """A visit day as one path: arrive, session, wait, session, ..., leave.

        Nodes are the day's distinct start and end times; a unit of flow
        enters at the first session's start, runs through each chosen
        session (start -> end), and hops from an end to the next start only
        when the gap is between the transition and the waiting limit. This
        states the waiting limit and the order of the day exactly, and the
        idle time as the cost of the hops, with the strong linear relaxation
        of a network flow. Returns the day's idle minutes.
        """
        m = self.model
        into_start: dict[int, list] = {}
        out_of_end: dict[int, list] = {}
        for _, option, _ in items:
            into_start.setdefault(option.start, [])
            out_of_end.setdefault(option.end, [])
        idle = []
        for end in out_of_end:
            for start in into_start:
                gap = start - end
                if gap >= transition and (max_wait is None or gap <= max_wait):
                    hop = m.new_bool_var()
                    out_of_end[end].append(hop)
                    into_start[start].append(hop)
                    if gap > transition:
                        idle.append((gap - transition) * hop)
        arrive = {start: m.new_bool_var() for start in into_start}
        leave = {end: m.new_bool_var() for end in out_of_end}
        m.add(total(arrive.values()) == visit)
        m.add(total(leave.values()) == visit)
        starting: dict[int, list] = {}
        ending: dict[int, list] = {}
        for _, option, var in items:
            starting.setdefault(option.start, []).append(var)
            ending.setdefault(option.end, []).append(var)
        for start, hops in into_start.items():
            m.add(total(hops) + arrive[start] == total(starting[start]))
        for end, hops in out_of_end.items():
            m.add(total(hops) + leave[end] == total(ending[end]))
        return total(idle)

    def _state_objectives(self) -> None:
        m = self.model
        space = self.space
        demand_total = sum(d.count for d in self.demands)
        self.scheduled = total(self.x.values()) + len(self.pruned)
        self.unmet = demand_total - self.scheduled
        self.demand_total = demand_total
        # Continuity: one flag per provider seen and per discipline seen.
        seen: dict[tuple[int, str, int], list] = {}
        for (d, option), var in self.x.items():
            demand = space.demands[d]
            seen.setdefault((demand.patient, demand.discipline, option.provider), []).append(var)
        if self.pruned:
            # A clinician seen on a day left out of the model is seen all the same.
            seen_anyway = m.new_bool_var()
            m.add(seen_anyway == 1)
            for d, option in self.pruned:
                demand = space.demands[d]
                seen.setdefault((demand.patient, demand.discipline, option.provider), []).append(seen_anyway)
        per_discipline: dict[tuple[int, str], list] = {}
        for (patient, discipline, _), variables in seen.items():
            flag = m.new_bool_var()
            for var in variables:
                m.add_implication(var, flag)
            m.add_bool_or(variables + [flag.Not()])
            per_discipline.setdefault((patient, discipline), []).append(flag)
        breaks = []
        for flags in per_discipline.values():
            if len(flags) > 1:
                any_flag = m.new_bool_var()
                for flag in flags:
                    m.add_implication(flag, any_flag)
                m.add_bool_or(flags + [any_flag.Not()])
                breaks.append(total(flags) - any_flag)
        self.breaks = total(breaks)
        # A day of only video sessions is no trip, as in the model's own visits.
        self.visits = total(self.visit.values()) + len({(space.demands[d].patient, o.day) for d, o in self.pruned
                                                        if not o.virtual})
        # Redundant: a week needs as many visit days as its busiest discipline has sessions.
        for demand in self.demands:
            variables = self.by_demand.get(demand.index, [])
            if demand.is_assessment or demand.count < 2 or len(variables) < 2:
                continue
            if space.gap_days(demand.patient, demand.discipline, demand.first_day) >= 1:
                week_visits = [self.attend[demand.patient, day] for day in range(demand.first_day, demand.end_day)
                               if (demand.patient, day) in self.attend]
                m.add(total(week_visits) >= total(variables))
        # Re-planning: a hinted appointment is kept when its exact option is chosen.
        moved = []
        self.hint_count = 0
        self.hint_keys = set()
        for patient, _, booking in space.hints:
            if patient not in self.patients:
                continue
            var = None if booking is None else self.x.get((booking.demand, Option(*booking[1:])))
            if var is not None:
                self.hint_keys.add((booking.demand, Option(*booking[1:])))
            moved.append(1 if var is None else 1 - var)
            self.hint_count += 1
        self.moved = total(moved)

    def _misses(self):
        """Sessions with another provider than the one the patient prefers (stage 2 only)."""
        space = self.space
        problem = space.problem
        misses = []
        for (d, option), var in self.x.items():
            demand = space.demands[d]
            wanted = problem.patients[demand.patient].preferred_providers.get(demand.discipline)
            if wanted is not None and problem.providers[option.provider].id != wanted:
                misses.append(var)
        return total(misses)

    def _days_to_first(self):
        m = self.model
        space = self.space
        terms = []
        top = 0
        for patient in self.patients:
            earliest = space.clock.day_index(space.problem.patients[patient].earliest_start)
            first = space.assessment(patient)
            if first is not None:
                options = [(o.day, v) for (d, o), v in self.x.items() if d == first.index]
                terms.append(total((day - earliest) * v for day, v in options))
                top += max((day - earliest for day, _ in options), default=0)
                continue
            visits = {day: v for (p, day), v in self.attend.items() if p == patient}
            if not visits:
                continue
            # One flag for the day of the first visit: it is a visit day, and
            # every visit day has the first one on or before it.
            first_on = {day: m.new_bool_var() for day in sorted(visits)}
            anything = m.new_bool_var()
            m.add(total(first_on.values()) == anything)
            for v in visits.values():
                m.add_implication(v, anything)
            flags = []
            for day in sorted(visits):
                m.add_implication(first_on[day], visits[day])
                flags.append(first_on[day])
                m.add_bool_or(flags + [visits[day].Not()])
            terms.append(total((day - earliest) * flag for day, flag in first_on.items()))
            top += max(visits) - earliest
        return total(terms), top

    def solve(self, hint: list[Booking], time_limit: float, deterministic: bool, comfort: bool = True,
              workers: int = STAGE1_WORKERS) -> Outcome:
        """Both stages (stage 1 only without `comfort`), hinted with a valid schedule.

        `workers` runs stage 1; the batch's many short re-solves use one,
        as each extra worker costs its own presolve."""
        m = self.model
        hinted = {(b.demand, Option(*b[1:])) for b in hint}
        m.hint({var: key in hinted for key, var in self.x.items()})
        w_breaks = 1
        w_visits = self.demand_total + 1
        w_moved = w_visits * (self.demand_total + 1)
        w_unmet = w_moved * (self.hint_count + 1)
        m.minimize(w_unmet * self.unmet + w_moved * self.moved + w_visits * self.visits + w_breaks * self.breaks)
        watched = None
        if self.report:
            def watched(value, bound) -> dict:
                unmet = value(self.unmet)
                figures = {"scheduled": self.demand_total - unmet, "demand": self.demand_total,
                           "visits": value(self.visits), "breaks": value(self.breaks)}
                if self.hint_count == 0:
                    figures["bound"] = max(0, -(-int(bound - unmet * w_unmet - (w_visits - 1)) // w_visits))
                return figures
            self._enter("sessions, visits and continuity")
        first = m.solve(time_limit * (0.7 if comfort else 1.0), deterministic, workers=workers, probing=self.probing,
                        figures=watched)
        if not first.found:
            return Outcome(list(hint), False, False, None, self.demand_total,
                           first.deterministic_time, first.wall_time)
        values = self._levels(first)
        chosen = self._chosen(first)
        bound = first.bound
        unmet_bound = values["unmet"] if first.optimal else max(0, -(-int(bound - (w_unmet - 1)) // w_unmet))
        visits_bound = None
        if self.hint_count == 0:
            visits_bound = max(0, -(-int(bound - values["unmet"] * w_unmet - (w_visits - 1)) // w_visits))
        outcome = Outcome([Booking(d, *option) for d, option in chosen], False, first.optimal, visits_bound,
                          self.demand_total - unmet_bound, first.deterministic_time, first.wall_time, values)
        if comfort:
            self._comfort(outcome, max(time_limit - first.wall_time, time_limit * 0.3), deterministic)
        return outcome

    def polish(self, current: list[Booking], seconds: float, deterministic: bool) -> Outcome:
        """Stage 2 alone: the comfort of a schedule whose stage 1 figures are kept (or bettered)."""
        booked = {(b.demand, Option(*b[1:])) for b in current}
        values = {"unmet": self.demand_total - len(current),
                  "moved": len(self.hint_keys - booked) + self.hint_count - len(self.hint_keys),
                  "visits": len({(self.space.demands[b.demand].patient, b.day) for b in current})}
        providers: dict[tuple[int, str], set[int]] = {}
        for b in current:
            demand = self.space.demands[b.demand]
            providers.setdefault((demand.patient, demand.discipline), set()).add(b.provider)
        values["breaks"] = sum(len(seen) - 1 for seen in providers.values())
        outcome = Outcome(list(current), False, False, None, 0, 0.0, 0.0, values)
        self._comfort(outcome, seconds, deterministic)
        return outcome

    def _comfort(self, outcome: Outcome, seconds: float, deterministic: bool) -> None:
        """Stage 2: hold stage 1's figures (as equalities once proven: the search
        then needs no detour) and improve the comfort of each visit day."""
        m = self.model
        values = outcome.levels
        if outcome.stage1_proven:
            m.add(self.unmet == values["unmet"])
            m.add(self.visits == values["visits"])
        else:
            m.add(self.unmet <= values["unmet"])
            m.add(self.visits <= values["visits"])
        m.add(self.moved <= values["moved"])
        m.add(self.breaks <= values["breaks"])
        chosen = {(b.demand, Option(*b[1:])) for b in outcome.bookings}
        m.hint({var: key in chosen for key, var in self.x.items()})
        # The day flows state idle time exactly; stage 1 does not need them.
        transition = self.space.problem.transition_minutes
        max_wait = self.space.problem.max_wait_minutes
        idle = total(self._day_flow(items, visit, transition, max_wait) for items, visit in self.bundle_days)
        # Stated here, not with the model: stage 1 (all the batch's small re-solves) never reads them.
        first_days, first_max = self._days_to_first()
        w_misses = 1
        w_first = self.demand_total + 1
        w_idle = w_first * (first_max + 1)
        m.minimize(w_idle * idle + w_first * first_days + w_misses * self._misses())
        watched = None
        if self.report:
            def watched(value, _bound) -> dict:
                return {"scheduled": self.demand_total - value(self.unmet), "visits": value(self.visits),
                        "breaks": value(self.breaks)}
            self._enter("comfort of each visit day")
        second = m.solve(seconds, deterministic, probing=self.probing, figures=watched)
        outcome.wall_time += second.wall_time
        outcome.deterministic_time += second.deterministic_time
        if second.found:
            outcome.bookings = [Booking(d, *option) for d, option in self._chosen(second)]
        outcome.proven = outcome.stage1_proven and second.optimal

    @staticmethod
    def _enter(stage: str) -> None:
        watcher = observe.current()
        if watcher is not None:
            watcher.entering(stage)

    def _levels(self, result) -> dict:
        return {"unmet": result.value(self.unmet), "moved": result.value(self.moved),
                "visits": result.value(self.visits), "breaks": result.value(self.breaks)}

    def visits_floor(self, bookings: list[Booking], seconds: float, deterministic: bool) -> tuple[int, float, float]:
        """A proven lower bound on the visits any valid schedule of exactly these sessions needs.

        Built on a model without the run's other patients (they can only take
        options away), with each demand's count fixed to what is booked.
        Returns (bound, deterministic time, wall time spent).
        """
        m = self.model
        counts = Counter(b.demand for b in bookings)
        for demand in self.demands:
            m.add(total(self.by_demand.get(demand.index, [])) == counts[demand.index])
        booked = {(b.demand, Option(*b[1:])) for b in bookings}
        m.hint({var: key in booked for key, var in self.x.items()})
        m.minimize(self.visits)
        result = m.solve(seconds, deterministic, probing=self.probing)
        floor = result.value(self.visits) if result.optimal else max(0, math.ceil(result.bound - 1e-6))
        return floor, result.deterministic_time, result.wall_time

    def _chosen(self, solver) -> list[tuple[int, Option]]:
        return [key for key, var in self.x.items() if solver.boolean_value(var)] + self.pruned
