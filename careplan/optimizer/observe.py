"""Watching a solve from outside: the schedule's figures as CP-SAT improves it, a way to stop it, a deadline.

    observer = Observer(on_progress=print, should_stop=lambda: cancelled.is_set(), seconds=10.0)
    solution = solve(problem, time_limit=10.0, observer=observer)

`on_progress(figures)` is a plain callable that receives a dict: `elapsed` (seconds since the observer was
made), `stage` (what the optimizer is doing), and, once a schedule is known, `scheduled`, `demand`,
`visits`, `breaks` (continuity breaks) and `bound` (a proven lower bound on the visits, when known). It is
called from CP-SAT's own solution callbacks (on the solver's thread), at most every `every` seconds, and
once more whenever a model's search ends; keep it cheap (e.g. store the dict for another thread to write).

`should_stop()` is polled about ten times a second while CP-SAT searches (and before each search starts):
when it answers true, the search under way stops (CP-SAT's StopSearch) and no further search starts, so the
solve returns its best schedule so far at once. `seconds` is a deadline for the whole solve, counted from
the observer's making: a search is never given more than what is left, and is stopped when it runs out.

Nothing here knows of Flask or a database.
"""
from __future__ import annotations

import contextvars
import threading
import time
from contextlib import contextmanager
from typing import Callable

_current: contextvars.ContextVar[Observer | None] = contextvars.ContextVar("careplan_optimizer_observer",
                                                                          default=None)


class Observer:
    def __init__(self, on_progress: Callable[[dict], None] | None = None,
                 should_stop: Callable[[], bool] | None = None, *, seconds: float | None = None,
                 every: float = 0.5):
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.every = every
        self.began = time.perf_counter()
        self.deadline = None if seconds is None else self.began + seconds
        self.figures: dict = {}
        self.stage = "starting"
        self._stopped = False
        self._last = 0.0
        self._lock = threading.Lock()

    # --- time and stopping ------------------------------------------------------------------------------
    def elapsed(self) -> float:
        return time.perf_counter() - self.began

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()

    @property
    def stopped(self) -> bool:
        """True once asked to stop (or past the deadline): no new search starts."""
        if not self._stopped:
            if self.should_stop is not None and self.should_stop():
                self._stopped = True
            elif self.deadline is not None and time.perf_counter() >= self.deadline:
                self._stopped = True
        return self._stopped

    def stop(self) -> None:
        self._stopped = True

    def cap(self, seconds: float) -> float:
        """A search's wall-clock budget, cut to what is left of the deadline (0 when stopped)."""
        if self.stopped:
            return 0.0
        left = self.remaining()
        return seconds if left is None else max(0.0, min(seconds, left))

    # --- progress ---------------------------------------------------------------------------------------
    def entering(self, stage: str) -> None:
        self.stage = stage
        self._emit(force=True)

    def schedule(self, *, force: bool = False, **figures) -> None:
        """A schedule was found: its figures (scheduled, demand, visits, breaks, bound)."""
        with self._lock:
            self.figures.update({k: v for k, v in figures.items() if v is not None})
        self._emit(force=force)

    def due(self) -> bool:
        """Whether a report now would be sent (evaluating the figures costs; skip it otherwise)."""
        return time.perf_counter() - self._last >= self.every

    def _emit(self, *, force: bool) -> None:
        if self.on_progress is None:
            return
        now = time.perf_counter()
        if not force and now - self._last < self.every:
            return
        self._last = now
        with self._lock:
            report = {"elapsed": round(now - self.began, 2), "stage": self.stage, **self.figures}
        self.on_progress(report)


def current() -> Observer | None:
    return _current.get()


@contextmanager
def observing(observer: Observer | None):
    token = _current.set(observer)
    try:
        yield observer
    finally:
        _current.reset(token)


class Watch:
    """While one CP-SAT search runs: stop it when the observer says so (polled every `poll` seconds on a
    small thread, since a search may go a long time without a new solution)."""

    def __init__(self, observer: Observer, stop_search: Callable[[], None], poll: float = 0.1):
        self.observer = observer
        self.stop_search = stop_search
        self.poll = poll
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="optimizer-watch", daemon=True)

    def _run(self) -> None:
        while not self._done.wait(self.poll):
            if self.observer.stopped:
                self.stop_search()
                return

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
