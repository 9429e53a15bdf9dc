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
   better; then each patient seeing several providers of a discipline, with
   the patients holding the time of the providers they already see;
3. then each plan's stage 2 (idle time, earliest care, preferences);
4. last, the clinicians exchanged between patients over the whole intake,
   every appointment kept at its time (`exchange.py`): two patients who
   each see the other's usual clinician at the same hour are beyond any
   re-solve of one of them.

A batch small enough (a week's intake of a small clinic) is also solved as
one model after pass 1, hinted with its schedule: when CP-SAT proves that
stage 1 optimal, pass 2 has nothing left to find and is skipped.

A re-solve is accepted only when the neighbourhood's objectives, compared
in the contract's order, are not worse; every step is valid and the clinic's
totals never get worse, so the result never books fewer sessions than the
first-available schedule. The last share of the time proves each plan's
visits floor.

Re-solves of disjoint neighbourhoods are independent CP-SAT runs, so outside
deterministic mode they run in worker processes, one per core: each one
solved while another was in flight is checked against what that other one
booked before it is accepted.
"""

from __future__ import annotations

import bisect
import multiprocessing
import time
from collections import Counter, defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, NamedTuple

from . import observe, resources
from .exchange import exchange
from .metrics import score, visits_lower_bound
from .model import PlanModel
from .neighbourhood import Chooser
from .problem import parse
from .space import Booking, Space


# Share of the time limit kept to prove each plan's visits lower bound.
BOUND_SHARE = 0.1
# Up to this many patients, the visits bound is also proven for all of them
# in one model: in a full intake the other patients take the bundling
# options, which no plan's own bound can see (30 plans: 302 visits proven
# against 283 from the plans' own bounds). With more patients the model takes
# seconds to build and CP-SAT proves nothing useful within a minute (nor
# does it for groups of 25 of them in 5 s each).
JOINT_BOUND_PATIENTS = 40
# Share kept for the bounds when the joint one is tried.
JOINT_BOUND_SHARE = 0.2
# Up to this many patients, stage 1 of all the plans together is tried as
# one model: measured on generated clinics (25 providers, 60% booked), eight
# workers proved 10- and 12-plan intakes optimal in 2-13 s on two cores,
# 15 plans in 28 s or not within 40 s.
JOINT_PROOF_PATIENTS = 12
JOINT_PROOF_SHARE = 0.5
JOINT_PROOF_WORKERS = 8
# Share kept for stage 2 (idle time, earliest care, preferences) of each
# plan, at most: it is one short solve per plan like pass 1, so it is kept
# to this many times what pass 1 took (the rest goes to pass 2).
COMFORT_SHARE = 0.2
COMFORT_PER_PASS_1 = 1.5
# Share of the time pass 1 (each plan alone, the whole plan) may take at
# most: measured on 100-plan intakes (60 s, two cores) it otherwise ended at
# 19-35 s and left the neighbourhood search 0-4 re-solves.
PASS_1_SHARE = 0.1
# Above this many patients there is no pass 1: measured on 100-plan intakes
# from the same-clinician start, it added 0-2 sessions in 10% of the time,
# where the neighbourhoods add about 6 a CPU second. Stage 2 of each plan then
# gets this share of the time.
PASS_1_PATIENTS = 40
LARGE_COMFORT_SHARE = 0.15
# CP-SAT's limit for one neighbourhood re-solve, per round of `Chooser`.
LNS_SECONDS = (1.0, 1.5, 2.0)
# The clinicians exchanged over the whole intake at the end (exchange.py): 0.1-0.2 s on 100 plans with
# CP-SAT's portfolio, which a single worker took 1 s to match.
EXCHANGE_SECONDS = 2.0
EXCHANGE_WORKERS = 8


class Task(NamedTuple):
    """One re-solve: `stage1`, `polish` (stage 2 alone) or `floor` (visits floor of one plan)."""

    kind: str
    patients: tuple[int, ...]
    occupied: dict[int, list[tuple[int, int]]]
    current: list[Booking]
    seconds: float
    deterministic: bool
    # The demands re-solved; the patients' other appointments stay as they
    # are (None: the patients' whole plans).
    free: frozenset[int] | None = None
    # What the neighbourhood was chosen for (progress and statistics).
    label: str = ""


class Done(NamedTuple):
    task: Task
    bookings: list[Booking]
    floor: int
    deterministic_time: float
    wall_time: float


def run_task(space: Space, task: Task) -> Done:
    model = PlanModel(space, list(task.patients), task.occupied, probing=False, free=task.free, keep=task.current)
    if task.kind == "floor":
        floor, deterministic_time, wall_time = model.visits_floor(task.current, task.seconds, task.deterministic)
        return Done(task, task.current, floor, deterministic_time, wall_time)
    if task.kind == "polish":
        outcome = model.polish(task.current, task.seconds, task.deterministic)
    else:
        outcome = model.solve(task.current, task.seconds, task.deterministic, comfort=False, workers=1)
    return Done(task, outcome.bookings, 0, outcome.deterministic_time, outcome.wall_time)


class _Inline:
    """Runs each task at once, in order: deterministic, and all a one-core machine can do."""

    capacity = 1

    def __init__(self, space: Space):
        self.space = space
        self.finished: deque[Done] = deque()

    @property
    def pending(self) -> int:
        return len(self.finished)

    def submit(self, task: Task) -> None:
        self.finished.append(run_task(self.space, task))

    def next_done(self) -> Done:
        return self.finished.popleft()

    def close(self) -> None:
        pass


# Each worker process parses the problem once, when it starts; the tasks
# then only carry patient numbers and bookings.
_worker_space: Space | None = None


def _start_worker(problem: dict) -> None:
    global _worker_space
    _worker_space = Space(parse(problem))


def _run_in_worker(task: Task) -> Done:
    return run_task(_worker_space, task)


class _Processes:
    """Tasks in worker processes, as many in flight as there are workers."""

    def __init__(self, problem: dict, processes: int):
        self.capacity = processes
        # Spawned, not forked: the parent may hold CP-SAT's or a web server's threads.
        self.pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_worker, initargs=(problem,))
        self.futures: set = set()

    @property
    def pending(self) -> int:
        return len(self.futures)

    def submit(self, task: Task) -> None:
        self.futures.add(self.pool.submit(_run_in_worker, task))

    def next_done(self) -> Done:
        finished, _ = wait(self.futures, return_when=FIRST_COMPLETED)
        future = finished.pop()
        self.futures.discard(future)
        return future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class Batch:
    def __init__(self, space: Space, start: list[Booking], time_limit: float, deterministic: bool,
                 say: Callable[[str], None], problem: dict | None = None, processes: int = 1):
        self.space = space
        self.deterministic = deterministic
        self.say = say
        self.budget = time_limit
        self.spent = 0.0
        self.clock_start = time.perf_counter()
        # Set when stage 1 of all the plans together is proven optimal.
        self.stage1_proven = False
        # Neighbourhood re-solves by (kind, "re-solved" / "improved" / "clashed").
        self.lns: Counter = Counter()
        self.by_patient: dict[int, list[Booking]] = defaultdict(list)
        # Every appointment's hold on its provider and room, sorted, kept up to
        # date as re-solves are accepted: rebuilding it for each re-solve and
        # each check was a large part of the parent's time on 100-plan intakes.
        self.held: dict[object, list[tuple[int, int, int, int]]] = defaultdict(list)
        self._replace((), start)
        if deterministic or processes < 2 or problem is None:
            self.runner = _Inline(space)
        else:
            self.runner = _Processes(problem, processes)
            say(f"re-solving in {processes} worker processes")

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc) -> None:
        self.runner.close()

    def remaining(self) -> float:
        """Budget left: deterministic time in deterministic mode, else wall-clock seconds."""
        used = self.spent if self.deterministic else time.perf_counter() - self.clock_start
        watcher = observe.current()
        if watcher is not None and watcher.stopped:
            return min(0.0, self.budget - used)
        return self.budget - used

    def bookings(self) -> list[Booking]:
        return [b for patient in sorted(self.by_patient) for b in self.by_patient[patient]]

    def _replace(self, patients, bookings: list[Booking]) -> None:
        """These patients' appointments become `bookings`."""
        for p in patients:
            for b in self.by_patient.get(p, []):
                for key in self._keys(b):
                    self.held[key].remove((b.start, b.end, p, b.demand))
            self.by_patient[p] = []
        for booking in bookings:
            patient = self.space.demands[booking.demand].patient
            self.by_patient[patient].append(booking)
            for key in self._keys(booking):
                bisect.insort(self.held[key], (booking.start, booking.end, patient, booking.demand))

    @staticmethod
    def _keys(booking: Booking) -> tuple:
        return (booking.provider,) if booking.room < 0 else (booking.provider, resources.room_key(booking.room))

    def _charge(self, deterministic_time: float, wall_time: float) -> None:
        self.spent += deterministic_time if self.deterministic else wall_time

    def _occupied(self, outside: set[int]) -> dict[int, list[tuple[int, int]]]:
        occupied: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for key, held in self.held.items():
            if held:
                occupied[key] = [(start, end) for start, end, patient, _ in held if patient not in outside]
        return occupied

    def _provider_clash(self, patients: tuple[int, ...], bookings: list[Booking]) -> bool:
        """Whether any of these bookings overlaps a provider's appointment with another patient.

        A provider's appointments never overlap one another, so those ending
        after a booking starts and starting before it ends are consecutive."""
        for b in bookings:
            held = self.held.get(b.provider, [])
            i = bisect.bisect_left(held, (b.end,)) - 1
            while i >= 0 and held[i][1] > b.start:
                if held[i][2] not in patients:
                    return True
                i -= 1
        return False

    def _task(self, kind: str, patients: list[int], seconds: float, free: frozenset[int] | None = None,
              label: str = "") -> Task:
        group = set(patients)
        occupied = {} if kind == "floor" else dict(self._occupied(group))
        current = [b for p in patients for b in self.by_patient.get(p, [])]
        return Task(kind, tuple(patients), occupied, current, seconds, self.deterministic, free, label)

    def _drive(self, next_task: Callable[[set[int]], Task | None], merged: Callable[[Done], None]) -> None:
        """Keep the runner busy with tasks of disjoint patients until `next_task` has none."""
        in_flight: set[int] = set()
        while True:
            while self.runner.pending < self.runner.capacity:
                task = next_task(in_flight)
                if task is None:
                    break
                self.runner.submit(task)
                in_flight.update(task.patients)
            if not self.runner.pending:
                return
            done = self.runner.next_done()
            in_flight.difference_update(done.task.patients)
            self._charge(done.deterministic_time, done.wall_time)
            merged(done)

    def _accept(self, done: Done) -> bool | None:
        """Take a re-solve if it is not worse; True when it is better, None when it
        clashes with what a re-solve that ran beside it booked (worth trying again)."""
        patients = done.task.patients
        after, before = score(self.space, done.bookings), score(self.space, done.task.current)
        if after > before:
            return False
        # Booked by a re-solve that finished while this one ran?
        if self._provider_clash(patients, done.bookings):
            return None
        if self.space.problem.rooms and resources.room_clash(self.space, self._occupied(set(patients)),
                                                             done.bookings):
            return None
        self._replace(patients, done.bookings)
        return after < before

    def run(self) -> None:
        space = self.space
        patients = list(range(len(space.problem.patients)))
        # Keep time at the end for each plan's comfort, and to prove a visits
        # lower bound for each plan.
        self.bound_share = JOINT_BOUND_SHARE if len(patients) <= JOINT_BOUND_PATIENTS else BOUND_SHARE
        comfort = self.budget * LARGE_COMFORT_SHARE
        if len(patients) <= PASS_1_PATIENTS:
            # Pass 1: each plan optimised on its own, within its share of the time,
            # those with the most to gain first (in case the share runs out).
            self.reserve = max(self.budget * (self.bound_share + COMFORT_SHARE), self.budget * (1 - PASS_1_SHARE))
            self._each_alone("stage1", self._most_wanting_first(patients),
                             lambda fair: max(0.05, min(1.0, 0.6 * fair)))
            self.say(f"each plan optimised: {self._summary()}")
            comfort = min(self.budget * COMFORT_SHARE, COMFORT_PER_PASS_1 * (self.budget - self.remaining()))
        self.reserve = self.budget * self.bound_share + comfort
        if len(patients) <= JOINT_PROOF_PATIENTS:
            self._all_together(patients, min(self.budget * JOINT_PROOF_SHARE, self.remaining() - self.reserve))
        if not self.stage1_proven:
            self._pass_2()
        # Pass 3: each plan's days made as comfortable as its figures allow
        # (and no floors to prove once stage 1 is proven, unless re-planning).
        self.reserve = 0.0 if self.stage1_proven and not space.hints else self.budget * self.bound_share
        self._each_alone("polish", [p for p in patients if self.by_patient.get(p)],
                         lambda fair: max(0.02, min(1.0, fair)))
        self.say(f"days made comfortable: {self._summary()}")
        if not self.stage1_proven:
            self._exchange()

    def _exchange(self) -> None:
        """Clinicians exchanged between patients, every appointment at its time, when that is better."""
        seconds = min(EXCHANGE_SECONDS, 0.3 * self.remaining())
        if seconds < 0.05:
            return
        current = self.bookings()
        # A re-plan's current appointments count as moved when their clinician changes.
        pinned = set(self.space.fixed) | {b for _, _, b in self.space.hints if b is not None}
        bookings, deterministic_time, wall_time = exchange(self.space, current, pinned, seconds, self.deterministic,
                                                           EXCHANGE_WORKERS)
        self._charge(deterministic_time, wall_time)
        if score(self.space, bookings) < score(self.space, current):
            self._replace(list(self.by_patient), bookings)
            self.say(f"clinicians exchanged between patients: {self._summary()}")

    def _most_wanting_first(self, patients: list[int]) -> list[int]:
        """Patients by what they miss: unmet sessions, then visits above their weeks' needs and breaks."""
        chooser = Chooser(self.space)
        wants = {}
        for patient in patients:
            unmet = others = 0
            for rank, candidate in chooser.wanting(patient, self.by_patient.get(patient, [])):
                unmet -= rank[0] if candidate.kind != "clinician" else 0
                others -= rank[1] if candidate.kind == "week" else rank[0] if candidate.kind == "clinician" else 0
            wants[patient] = (-unmet, -others, patient)
        return sorted(patients, key=wants.__getitem__)

    def _all_together(self, patients: list[int], seconds: float) -> None:
        """Stage 1 of every plan as one model, hinted with the schedule so far."""
        if seconds < 0.2:
            return
        current = self.bookings()
        outcome = PlanModel(self.space, patients, {}).solve(current, seconds, self.deterministic, comfort=False,
                                                            workers=JOINT_PROOF_WORKERS)
        self._charge(outcome.deterministic_time, outcome.wall_time)
        after, before = score(self.space, outcome.bookings), score(self.space, current)
        if after[:4] == before[:4]:
            # Stage 1 no better: keep the schedule so far (its comfort may be
            # better), proven optimal if the other one was.
            self.stage1_proven = outcome.stage1_proven
        elif after < before:
            self._replace(patients, outcome.bookings)
            self.stage1_proven = outcome.stage1_proven
        self.say(f"all plans together{' (proven optimal)' if self.stage1_proven else ''}: {self._summary()}")

    def _pass_2(self) -> None:
        """Large-neighbourhood search: re-solve what `Chooser` picks until the time is used.

        A round goes through every candidate once (each checked again just
        before it is tried); the next round takes larger neighbourhoods, and
        after the largest the smallest come again if anything improved since.
        """
        space = self.space
        chooser = Chooser(space)
        tried: set[tuple] = set()
        state = {"round": 0, "changed": False, "listed": -1}
        queue: deque = deque()
        keys: dict[tuple[int, ...], tuple] = {}

        def neighbourhood(in_flight: set[int]) -> Task | None:
            while self.remaining() - self.reserve > 0.3:
                if state["listed"] < 0:
                    queue.extend(chooser.candidates(self.by_patient))
                    state["listed"] = 0
                while queue:
                    candidate = queue.popleft()
                    key = (candidate.kind, candidate.patient, candidate.detail, state["round"])
                    if key in tried or candidate.patient in in_flight:
                        continue
                    # Listed before the last changes: is it still wanting?
                    if candidate not in {c for _, c in chooser.wanting(candidate.patient,
                                                                       self.by_patient.get(candidate.patient, []))}:
                        continue
                    chosen = chooser.build(candidate, self.by_patient, in_flight, state["round"], self.held)
                    tried.add(key)
                    keys[chosen.patients] = key
                    seconds = min(LNS_SECONDS[min(state["round"], len(LNS_SECONDS) - 1)],
                                  self.remaining() - self.reserve)
                    return self._task("stage1", list(chosen.patients), seconds, chosen.free, chosen.kind)
                # Every candidate listed has been tried (or waits for a re-solve in flight).
                state["listed"] = -1
                if in_flight:
                    return None
                # Next round: larger neighbourhoods; after the largest, the
                # smallest again if anything moved since it began.
                if state["round"] + 1 < len(LNS_SECONDS):
                    state["round"] += 1
                elif state["changed"]:
                    state["round"] = 0
                    state["changed"] = False
                else:
                    return None
                self.say(f"neighbourhoods, round {state['round'] + 1}: {self._summary()}")
                tried.clear()
            return None

        def regrouped(done: Done) -> None:
            accepted = self._accept(done)
            key = keys.pop(done.task.patients, None)
            self.lns[done.task.label, "re-solved"] += 1
            if accepted is None:
                tried.discard(key)
                self.lns[done.task.label, "clashed"] += 1
            elif accepted:
                state["changed"] = True
                self.lns[done.task.label, "improved"] += 1

        self._drive(neighbourhood, regrouped)
        figures = ", ".join(f"{kind} {self.lns[kind, 'improved']}/{self.lns[kind, 're-solved']}"
                            for kind in ("plan", "week", "clinician") if self.lns[kind, "re-solved"])
        clashed = sum(self.lns[kind, "clashed"] for kind in ("plan", "week", "clinician"))
        self.say(f"neighbourhoods re-solved (improved/all: {figures or 'none'}; {clashed} clashed with one "
                 f"beside them): {self._summary()}")

    def _each_alone(self, kind: str, patients: list[int], seconds: Callable[[float], float]) -> None:
        """Re-solve each patient on their own, in order, until the time left over the reserve is gone.

        `seconds` turns each one's fair share of that time into its limit; one
        that clashes with a re-solve that ran beside it goes to the back of the queue.
        """
        queue = deque(patients)
        lanes = self.runner.capacity

        def next_task(in_flight: set[int]) -> Task | None:
            left = self.remaining() - self.reserve
            if not queue or left <= 0:
                return None
            limit = seconds(lanes * left / len(queue))
            return self._task(kind, [queue.popleft()], limit)

        def merged(done: Done) -> None:
            if self._accept(done) is None:
                queue.append(done.task.patients[0])

        self._drive(next_task, merged)

    def visits_bound(self) -> int:
        """A proven floor on the visits of exactly the sessions booked.

        First the sum over plans of each one's floor without the others: a
        plan whose visits already equal its week-by-week bound needs no
        more; the others are tried, widest gap first, in part of the time
        left. Then, for a batch small enough, the floor of all the plans
        together in the rest; both are valid, so the larger is kept.
        """
        space = self.space
        if self.stage1_proven and not space.hints:
            # No schedule booking as many sessions has fewer visits, and stage 2
            # kept them. (When re-planning, fewest moves rank before visits:
            # moving more could bundle better, so the floors are proven below.)
            return score(space, self.bookings())[2]
        floors = {p: visits_lower_bound(space, b) for p, b in self.by_patient.items() if b}
        gaps = sorted((floors[p] - len({b.day for b in self.by_patient[p]}), p) for p in floors)
        wanting = deque(p for gap, p in gaps if gap < 0)
        joint = bool(wanting) and len(space.problem.patients) <= JOINT_BOUND_PATIENTS
        # The plans' own floors are cheap; most of the time goes to the joint one.
        own_until = self.remaining() * (0.7 if joint else 0.0)
        lanes = self.runner.capacity

        def own(in_flight: set[int]) -> Task | None:
            if not wanting:
                return None
            seconds = lanes * (self.remaining() - own_until) / len(wanting)
            if seconds < 0.02:
                return None
            return self._task("floor", [wanting.popleft()], seconds)

        def proven(done: Done) -> None:
            patient = done.task.patients[0]
            floors[patient] = max(floors[patient], done.floor)

        self._drive(own, proven)
        bound = sum(floors.values())
        visits = sum(len({b.day for b in self.by_patient[p]}) for p in floors)
        if joint and bound < visits and self.remaining() > 0.5:
            floor, deterministic_time, wall_time = PlanModel(space, sorted(floors), {}).visits_floor(
                self.bookings(), self.remaining(), self.deterministic)
            self._charge(deterministic_time, wall_time)
            bound = max(bound, floor)
        return bound

    def _summary(self) -> str:
        figures = score(self.space, self.bookings())
        watcher = observe.current()
        if watcher is not None:
            watcher.schedule(scheduled=-figures[0], demand=self.space.total_demand, visits=figures[2],
                             breaks=figures[3])
        return f"{-figures[0]} of {self.space.total_demand} sessions, {figures[2]} visits, {figures[3]} breaks"
