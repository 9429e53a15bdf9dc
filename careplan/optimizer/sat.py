"""A small CP-SAT model builder on OR-Tools' C++ bindings.

`ortools.sat.python.cp_model` imports pandas and numpy, which costs about
0.4 s of the 1 s a front desk waits for a new plan; the solver itself only
needs the bindings in `cp_model_helper` (0.08 s). This module writes the
model proto directly with the few constraint kinds the care-plan model
uses: booleans and bounded integers, linear constraints (optionally
enforced), clauses, at-most-one, a linear objective and a solution hint.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from ortools.sat.python import cp_model_helper as _cmh

from . import observe

# The most CP-SAT search threads one search may use, set around a whole solve by `threads_at_most` (None: as
# the model asks). A service running several solves on a few cores bounds them, so that the solves together
# never ask for many more threads than there are cores (each search's portfolio is otherwise 4 to 8 threads).
_threads_cap: contextvars.ContextVar[int | None] = contextvars.ContextVar("careplan_optimizer_threads",
                                                                         default=None)


@contextmanager
def threads_at_most(threads: int | None):
    """Within the block, no search started on this thread uses more than `threads` CP-SAT workers; None
    leaves each search's own number."""
    if threads is not None and threads < 1:
        raise ValueError("threads: must be at least 1")
    token = _threads_cap.set(threads)
    try:
        yield
    finally:
        _threads_cap.reset(token)


def workers_for(asked: int) -> int:
    """The workers a search that asks for `asked` gets under the current cap."""
    cap = _threads_cap.get()
    return asked if cap is None else max(1, min(asked, cap))

OPTIMAL = _cmh.CpSolverStatus.OPTIMAL
FEASIBLE = _cmh.CpSolverStatus.FEASIBLE
INFEASIBLE = _cmh.CpSolverStatus.INFEASIBLE


class Expr:
    """A linear expression: {variable index: coefficient} plus a constant."""

    __slots__ = ("terms", "const")
    __hash__ = object.__hash__

    def __init__(self, terms: dict[int, int] | None = None, const: int = 0):
        self.terms = terms if terms is not None else {}
        self.const = const

    def _merged(self, other, sign: int) -> Expr:
        terms = dict(self.terms)
        if isinstance(other, int):
            return Expr(terms, self.const + sign * other)
        other = _expr(other)
        for index, coeff in other.terms.items():
            terms[index] = terms.get(index, 0) + sign * coeff
        return Expr(terms, self.const + sign * other.const)

    def __add__(self, other):
        return self._merged(other, 1)

    __radd__ = __add__

    def __sub__(self, other):
        return self._merged(other, -1)

    def __rsub__(self, other):
        return (-self)._merged(other, 1)

    def __neg__(self):
        return Expr({i: -c for i, c in self.terms.items()}, -self.const)

    def __mul__(self, factor: int):
        return Expr({i: c * factor for i, c in self.terms.items()}, self.const * factor)

    __rmul__ = __mul__

    def __le__(self, other):
        diff = self - other
        return Bound(diff, None, 0)

    def __ge__(self, other):
        diff = self - other
        return Bound(diff, 0, None)

    def __eq__(self, other):
        diff = self - other
        return Bound(diff, 0, 0)


class Var(Expr):
    """A model variable; for booleans also a literal."""

    __slots__ = ("index",)
    __hash__ = object.__hash__

    # A model has many more variables and negations than sums over them: their
    # terms are made only when used in one (building models is most of a small re-solve).
    const = 0

    def __init__(self, index: int):
        self.index = index

    @property
    def terms(self) -> dict[int, int]:
        return {self.index: 1}

    @property
    def literal(self) -> int:
        return self.index

    def Not(self) -> NotVar:  # noqa: N802 (CP-SAT's own spelling)
        return NotVar(self)


class NotVar(Expr):
    """The negation of a boolean variable: 1 - var in linear terms."""

    __slots__ = ("var",)
    __hash__ = object.__hash__

    const = 1

    def __init__(self, var: Var):
        self.var = var

    @property
    def terms(self) -> dict[int, int]:
        return {self.var.index: -1}

    @property
    def literal(self) -> int:
        return -self.var.index - 1

    def Not(self) -> Var:  # noqa: N802
        return self.var


def _expr(value) -> Expr:
    return Expr({}, value) if isinstance(value, int) else value


def total(items) -> Expr:
    """The sum of expressions, in linear time (the builtin sum copies at each step)."""
    terms: dict[int, int] = {}
    const = 0
    for item in items:
        if isinstance(item, int):
            const += item
            continue
        for index, coeff in item.terms.items():
            terms[index] = terms.get(index, 0) + coeff
        const += item.const
    return Expr(terms, const)


class Bound:
    def __init__(self, expr: Expr, low: int | None, high: int | None):
        self.expr, self.low, self.high = expr, low, high


class Constraint:
    def __init__(self, proto):
        self.proto = proto

    def only_enforce_if(self, *literals) -> Constraint:
        self.proto.enforcement_literal.extend(lit.literal for lit in literals)
        return self


_INF = 2**62


class Model:
    def __init__(self):
        self.proto = _cmh.CpModelProto()
        self._count = 0

    def new_bool_var(self) -> Var:
        return self.new_int_var(0, 1)

    def new_int_var(self, low: int, high: int) -> Var:
        self.proto.variables.add().domain.extend((low, high))
        self._count += 1
        return Var(self._count - 1)

    def add(self, bound: Bound) -> Constraint:
        expr = bound.expr
        terms = [(i, c) for i, c in expr.terms.items() if c]
        constraint = self.proto.constraints.add()
        linear = constraint.linear
        linear.vars.extend(i for i, _ in terms)
        linear.coeffs.extend(c for _, c in terms)
        low = -_INF if bound.low is None else bound.low - expr.const
        high = _INF if bound.high is None else bound.high - expr.const
        linear.domain.extend([low, high])
        return Constraint(constraint)

    def add_bool_or(self, literals) -> Constraint:
        constraint = self.proto.constraints.add()
        constraint.bool_or.literals.extend([lit.literal for lit in literals])
        return Constraint(constraint)

    def add_implication(self, a, b) -> Constraint:
        return self.add_bool_or([a.Not(), b])

    def add_at_most_one(self, literals) -> Constraint:
        constraint = self.proto.constraints.add()
        constraint.at_most_one.literals.extend([lit.literal for lit in literals])
        return Constraint(constraint)

    def minimize(self, expr: Expr) -> None:
        expr = _expr(expr)
        self.proto.clear_objective()
        terms = [(i, c) for i, c in expr.terms.items() if c]
        objective = self.proto.objective
        objective.vars.extend(i for i, _ in terms)
        objective.coeffs.extend(c for _, c in terms)
        objective.offset = float(expr.const)

    def hint(self, values: dict[Var, int]) -> None:
        self.proto.clear_solution_hint()
        self.proto.solution_hint.vars.extend(v.index for v in values)
        self.proto.solution_hint.values.extend(int(x) for x in values.values())

    def solve(self, seconds: float, deterministic: bool, workers: int = 1, probing: bool = True,
              figures=None) -> Result:
        """Solve within `seconds` (deterministic time units in deterministic mode).

        Under an observer (careplan.optimizer.observe), the search never outlives the observer's deadline
        and stops when it asks; `figures(value, bound)` (value: expression -> int in the solution, bound:
        the objective's proven bound) turns each solution into the figures the observer reports.

        A single worker gets the strongest linear relaxation (linearization
        level 2); several workers run CP-SAT's portfolio, interleaved in
        deterministic mode so that the same model always gives the same answer.
        """
        params = _cmh.SatParameters()
        workers = workers_for(workers)
        params.num_workers = workers
        if workers == 1:
            params.linearization_level = 2
        if not probing:
            params.cp_model_probing_level = 0
        if deterministic:
            # Same problem, same schedule: interleaved workers, a fixed seed and
            # a budget in deterministic time rather than wall-clock seconds.
            params.interleave_search = workers > 1
            params.random_seed = 7
            params.max_deterministic_time = max(seconds, 0.05)
            params.max_time_in_seconds = max(60.0, seconds * 20)
        else:
            params.max_time_in_seconds = max(seconds, 0.05)
        watcher = observe.current()
        if watcher is not None:
            cap = watcher.cap(params.max_time_in_seconds)
            params.max_time_in_seconds = max(cap, 0.001)
            if cap <= 0.0:
                params.max_deterministic_time = 0.0
        wrapper = _cmh.SolveWrapper()
        wrapper.set_parameters(params)
        if watcher is None:
            return Result(wrapper.solve(self.proto))
        callback = None
        if figures is not None:
            callback = _Reporter(watcher, figures)
            wrapper.add_solution_callback(callback)
        with observe.Watch(watcher, wrapper.stop_search):
            result = Result(wrapper.solve(self.proto))
        if figures is not None and result.found:
            watcher.schedule(force=True, **figures(result.value, result.bound))
        return result


class _Reporter(_cmh.SolutionCallback):
    """CP-SAT's own solution callback: each better schedule's figures to the observer (throttled there),
    and StopSearch as soon as the observer is told to stop."""

    def __init__(self, watcher, figures):
        super().__init__()
        self.watcher = watcher
        self.figures = figures

    def OnSolutionCallback(self) -> None:  # noqa: N802 (CP-SAT's own spelling)
        if self.watcher.stopped:
            self.StopSearch()
            return
        if self.watcher.due():
            def value(expr) -> int:
                expr = _expr(expr)
                return expr.const + sum(c * self.SolutionIntegerValue(i) for i, c in expr.terms.items())

            self.watcher.schedule(**self.figures(value, self.BestObjectiveBound()))


class Result:
    def __init__(self, response):
        self.response = response
        self.status = response.status
        self.solution = list(response.solution)

    @property
    def found(self) -> bool:
        return self.status in (OPTIMAL, FEASIBLE)

    @property
    def optimal(self) -> bool:
        return self.status == OPTIMAL

    @property
    def bound(self) -> float:
        return self.response.best_objective_bound

    @property
    def wall_time(self) -> float:
        return self.response.wall_time

    @property
    def deterministic_time(self) -> float:
        return self.response.deterministic_time

    def value(self, expr) -> int:
        expr = _expr(expr)
        return expr.const + sum(c * self.solution[i] for i, c in expr.terms.items())

    def boolean_value(self, var: Var) -> bool:
        return bool(self.solution[var.index])
