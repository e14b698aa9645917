"""Re-run mutmut's survivors against chosen tests, to measure what new tests kill.

After `mutmut run` (docs/TESTING.md), the survivors of a module are read from
`mutants/<module>.py.meta` and each is switched on through mutmut's own trampoline
(the MUTANT_UNDER_TEST environment variable) while pytest runs the given tests in a
forked child. A survivor is now killed when pytest fails.

    python benchmarks/mutation_rerun.py backprop_doctor/gradcheck.py -- tests/test_mutant_survivors.py

Prints one line per mutant that is still alive and the counts.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def survivors(module: str) -> list[str]:
    meta = json.loads((ROOT / "mutants" / f"{module}.meta").read_text(encoding="utf-8"))
    return sorted(k for k, code in meta["exit_code_by_key"].items() if code == 0)


def run_one(name: str, tests: list[str]) -> int:
    pid = os.fork()
    if pid == 0:  # child: the mutated package first on the path, the mutant switched on
        try:
            os.environ["MUTANT_UNDER_TEST"] = name
            os.chdir(ROOT / "mutants")
            sys.path.insert(0, str(ROOT / "mutants"))
            sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest

            code = pytest.main(["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *tests])
        except BaseException:
            code = 99
        os._exit(int(code))
    return pid


def main() -> int:
    # imported once here, before the forks (none of them imports backprop_doctor): each child then
    # only imports the mutated package and the tests
    import numpy  # noqa: F401
    import pytest  # noqa: F401

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("module", help="e.g. backprop_doctor/gradcheck.py")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", action="append", help="only survivors whose name matches this glob (repeatable)")
    parser.add_argument("tests", nargs="+")
    args = parser.parse_args()
    names = survivors(args.module)
    if args.only:
        names = [n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in args.only)]
    running: dict[int, str] = {}
    alive, killed = [], 0
    queue = list(names)
    while queue or running:
        while queue and len(running) < args.jobs:
            name = queue.pop(0)
            running[run_one(name, args.tests)] = name
        pid, status = os.wait()
        name = running.pop(pid)
        if os.waitstatus_to_exitcode(status) == 0:
            alive.append(name)
            print(f"alive  {name}", flush=True)
        else:
            killed += 1
            print(f"killed {name}", flush=True)
    print(f"{len(names)} survivors re-run: {killed} now killed, {len(alive)} still alive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
