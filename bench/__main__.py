"""Every benchmark of the project: `python -m bench` from the repository root."""

from __future__ import annotations

import sys

from . import calendar, jobs, optimizer, service, soak


def main() -> None:
    # `python -m bench calendar`: the calendar's service benchmark alone (a few seconds);
    # `python -m bench service`: the service at S, M and L scale alone (BENCH_SCALES=S,M to choose);
    # `python -m bench jobs [sqlite|postgresql]`: requests while four solve jobs run (about two minutes).
    if sys.argv[1:] == ["calendar"]:
        calendar.main()
        return
    if sys.argv[1:] == ["service"]:
        service.main()
        return
    # `python -m bench soak`: 16 clients for 60 s against gunicorn on PostgreSQL (BENCH_DATABASE_URL).
    if sys.argv[1:] == ["soak"]:
        soak.main()
        return
    if sys.argv[1:2] == ["jobs"]:
        jobs.main(*sys.argv[2:3])
        return
    # `python -m bench --intakes` / `--only TEXT`: the optimizer's instances alone.
    if not any(arg.startswith("--") for arg in sys.argv[1:]):
        calendar.main()
        service.main()
        jobs.main()
        soak.main()
    optimizer.main()


if __name__ == "__main__":
    main()
