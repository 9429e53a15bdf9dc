"""Every benchmark of the project: `python -m bench` from the repository root."""

from __future__ import annotations

import sys

from . import calendar, optimizer, service


def main() -> None:
    # `python -m bench calendar`: the calendar's service benchmark alone (a few seconds).
    if sys.argv[1:] == ["calendar"]:
        calendar.main()
        return
    # `python -m bench service [sqlite|postgresql]`: requests while four solve jobs run (about two minutes).
    if sys.argv[1:2] == ["service"]:
        service.main(*sys.argv[2:3])
        return
    calendar.main()
    service.main()
    optimizer.main()


if __name__ == "__main__":
    main()
