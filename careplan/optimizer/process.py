"""Solving in a process of its own, kept between solves: `SolverProcess().solve(...)` takes the arguments of
`careplan.optimizer.solve` and answers the same, while the optimizer's Python work (building models, the
batch's passes, explaining) runs outside the calling process, so a web process that also runs solve jobs
(the embedded default) keeps its interpreter for the requests.

The observer stays in the caller: the child reports each improvement over a pipe (handed to the caller's
`observer.on_progress`), and the caller's `observer.stopped` (a cancel, the deadline) is passed to the child,
whose own observer then stops CP-SAT's search. A child that dies is replaced at the next solve.

`nice` lowers the child's scheduling priority (Linux and other Unix: its nice value, which CP-SAT's threads
inherit) before it loads anything: the calling process keeps its own, so a web process's requests, and its
database transactions (the job's read and write), win the processor over the search. `threads` bounds the
CP-SAT threads of each search the child runs (see `solve`).
"""
from __future__ import annotations

import multiprocessing
import os

from .observe import Observer
from .problem import ProblemError

# How often the caller reads the child's reports and passes a stop on.
POLL_SECONDS = 0.05


def lower_priority(nice: int) -> bool:
    """Raise this thread's nice value to `nice` (never lower it: that needs privileges); threads started
    after inherit it. False where the system would not (no nice values, not allowed)."""
    if nice <= 0:
        return True
    if not hasattr(os, "setpriority"):
        return False
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < nice:
            os.setpriority(os.PRIO_PROCESS, 0, min(nice, 19))
    except OSError:
        return False
    return True


def _serve(connection, stop, nice: int = 0, threads: int | None = None) -> None:
    """The child: solve what is sent, report, answer; until told to end (None). OR-Tools is loaded at once,
    before the first solve is sent, at the child's lowered priority."""
    lower_priority(nice)
    from .runner import solve
    from . import sat  # noqa: F401

    while True:
        message = connection.recv()
        if message is None:
            return
        document, time_limit, deterministic = message
        observer = Observer(on_progress=lambda report: connection.send(("progress", report)),
                            should_stop=stop.is_set, seconds=time_limit + 0.5)
        try:
            answer = ("solution", solve(document, time_limit=time_limit, deterministic=deterministic,
                                        observer=observer, threads=threads))
        except ProblemError as refused:
            answer = ("problem", refused.path, refused.message)
        except Exception as failed:  # reported to the caller, the child stays
            answer = ("error", f"{type(failed).__name__}: {failed}")
        connection.send(answer)


class SolverProcess:
    def __init__(self, *, nice: int = 0, threads: int | None = None):
        if threads is not None and threads < 1:
            raise ValueError("threads: must be at least 1")
        self.nice = nice
        self.threads = threads
        self._context = multiprocessing.get_context("spawn")
        self._process = None
        self._connection = None
        self._stop = None

    def start(self) -> SolverProcess:
        """Start the child now (it loads OR-Tools) rather than at the first solve."""
        if self._process is None or not self._process.is_alive():
            self._start()
        return self

    def _start(self) -> None:
        self._connection, child = self._context.Pipe()
        self._stop = self._context.Event()
        self._process = self._context.Process(target=_serve, args=(child, self._stop, self.nice, self.threads),
                                              daemon=True, name="careplan-solver")
        self._process.start()
        child.close()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self._process is not None and self._process.is_alive() else None

    def solve(self, problem: dict, *, time_limit: float = 20.0, deterministic: bool = False,
              observer: Observer | None = None, **_ignored) -> dict:
        if self._process is None or not self._process.is_alive():
            self._start()
        self._stop.clear()
        self._connection.send((problem, time_limit, deterministic))
        while True:
            if observer is not None and observer.stopped:
                self._stop.set()
            if not self._connection.poll(POLL_SECONDS):
                if not self._process.is_alive():
                    self._process = None
                    raise RuntimeError("the solver process ended during a solve")
                continue
            kind, *rest = self._connection.recv()
            if kind == "progress":
                if observer is not None and observer.on_progress is not None:
                    observer.on_progress(rest[0])
                continue
            if kind == "solution":
                return rest[0]
            if kind == "problem":
                raise ProblemError(*rest)
            raise RuntimeError(rest[0])

    def close(self, timeout: float = 5.0) -> None:
        if self._process is None:
            return
        if self._process.is_alive():
            self._stop.set()
            try:
                self._connection.send(None)
            except OSError:
                pass
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._connection.close()
        self._process = None
