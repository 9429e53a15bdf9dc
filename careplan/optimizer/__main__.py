"""Command line: python -m careplan.optimizer solve PROBLEM.json [options].

Exit 0 whenever a solution document was written (INFEASIBLE included),
2 for an invalid problem (the message names the offending field). Progress
goes to standard error; standard output carries only the solution.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m careplan.optimizer", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    solve_cmd = commands.add_parser("solve", help="schedule the care plans of a problem document")
    solve_cmd.add_argument("problem", help="problem JSON file ('-' for standard input)")
    solve_cmd.add_argument("--time-limit", type=float, default=20.0, metavar="SECONDS",
                           help="search budget (default 20; a single plan is usually proven sooner)")
    solve_cmd.add_argument("--out", metavar="SOLUTION.json", help="write the solution here instead of stdout")
    solve_cmd.add_argument("--deterministic", action="store_true",
                           help="same problem, same schedule (the time limit counts deterministic time)")
    solve_cmd.add_argument("--quiet", action="store_true", help="no progress on standard error")
    solve_cmd.add_argument("--processes", type=int, metavar="N",
                           help="worker processes for a batch (default: one per core, at most 4)")
    check_cmd = commands.add_parser("check", help="check a solution against its problem's hard rules")
    check_cmd.add_argument("problem")
    check_cmd.add_argument("solution")
    args = parser.parse_args(argv)

    from .problem import ProblemError

    try:
        problem = _load(args.problem)
    except (OSError, ValueError) as error:
        print(f"{args.problem}: cannot read a JSON document: {error}", file=sys.stderr)
        return 2
    if args.command == "check":
        return _check(problem, args.solution)
    if args.time_limit <= 0:
        print("--time-limit: must be > 0", file=sys.stderr)
        return 2
    if args.processes is not None and args.processes < 1:
        print("--processes: must be >= 1", file=sys.stderr)
        return 2

    from .runner import default_processes, solve

    progress = None if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    try:
        solution = solve(problem, time_limit=args.time_limit, deterministic=args.deterministic, progress=progress,
                         processes=args.processes or default_processes())
    except ProblemError as error:
        print(f"invalid problem: {error}", file=sys.stderr)
        return 2
    text = json.dumps(solution, indent=1)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


def _load(path: str) -> object:
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _check(problem: object, solution_path: str) -> int:
    from .check import check
    from .problem import ProblemError, parse

    try:
        parse(problem)
        solution = _load(solution_path)
    except ProblemError as error:
        print(f"invalid problem: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        print(f"{solution_path}: cannot read a JSON document: {error}", file=sys.stderr)
        return 2
    try:
        faults = check(problem, solution)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        print(f"{solution_path}: not a solution document of format v1 ({error!r})", file=sys.stderr)
        return 2
    for fault in faults:
        print(fault)
    print("valid" if not faults else f"{len(faults)} problem(s)", file=sys.stderr)
    return 0 if not faults else 1


if __name__ == "__main__":
    sys.exit(main())
