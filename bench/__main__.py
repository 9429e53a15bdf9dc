"""Every benchmark of the project: `python -m bench` from the repository root."""

from __future__ import annotations

from . import optimizer


def main() -> None:
    optimizer.main()


if __name__ == "__main__":
    main()
