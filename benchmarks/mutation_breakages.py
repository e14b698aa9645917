"""Break the product on purpose, one named change at a time, and see which tests notice.

The eight breakages of issue 15 that once passed the whole suite, each a single textual
change in one product file. For each, the repository is copied to a temp folder (with
`shared/` beside it, so the seed-file tests run too), the change is applied there, and
pytest runs in the copy (the CLI's child processes import the copy as well, through
PYTHONPATH). The working tree is never touched.

    python benchmarks/mutation_breakages.py                   # every breakage, whole suite
    python benchmarks/mutation_breakages.py --only dedup -- tests/test_known_breakages.py

A breakage is "killed" when pytest exits non-zero; the failing tests are listed.
Not part of the default test run (it runs the suite eight times).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Breakage:
    name: str
    file: str
    old: str
    new: str
    what: str


BREAKAGES = [
    Breakage(
        "worst-best-first",
        "backprop_doctor/gradcheck.py",
        "order = np.argsort(-errors)[:count]",
        "order = np.argsort(errors)[:count]",
        "the worst elements of a gradient finding sorted best-first",
    ),
    Breakage(
        "floor-atol-only",
        "backprop_doctor/gradcheck.py",
        "floor=max(floor, 1e-6 * size, noise_floor(f0, h)),",
        "floor=floor,",
        "the directional probe's noise/size floor reduced to atol alone",
    ),
    Breakage(
        "live-x",
        "backprop_doctor/engine.py",
        "return self.adapter.forward(x.copy() if self._writes_input else x, self.t)",
        "return self.adapter.forward(x, self.t)",
        "forward handed the live, perturbed x instead of a copy",
    ),
    Breakage(
        "rowsum-1e-2",
        "backprop_doctor/checks/softmax_not_per_row.py",
        "THRESHOLD = 1e-6",
        "THRESHOLD = 1e-2",
        "the softmax row-sum threshold loosened from 1e-6 to 1e-2",
    ),
    Breakage(
        "no-dedup",
        "backprop_doctor/ranking.py",
        "        if identity not in seen:\n",
        "        if True:\n",
        "findings no longer de-duplicated",
    ),
    Breakage(
        "nodeid-colons",
        "backprop_doctor/plugin.py",
        'return layer.replace("::", ":") if layer else None',
        "return layer if layer else None",
        "`::` in a layer name not escaped in pytest node ids",
    ),
    Breakage(
        "rise-1.5",
        "backprop_doctor/training/settings.py",
        "RISE_RATIO = 1.10",
        "RISE_RATIO = 1.5",
        "the loss-rise ratio moved from 1.10 to 1.5",
    ),
    Breakage(
        "failing-count",
        "backprop_doctor/report/json_report.py",
        '"failing": sum(1 for r in reports if not r.ok),',
        '"failing": min(1, sum(1 for r in reports if not r.ok)),',
        "the JSON `failing` count wrong when two files fail",
    ),
]


def copy_repository(target: Path) -> Path:
    """The tracked files and the working tree's edits, without the venv: target/repo, shared beside it."""
    repo = target / "repo"
    ignore = shutil.ignore_patterns(".venv", ".git", "mutants", "__pycache__", ".pytest_cache", ".hypothesis", "*.egg-info")
    shutil.copytree(ROOT, repo, ignore=ignore)
    shared = ROOT.parent / "shared"
    if shared.exists():
        (target / "shared").symlink_to(shared.resolve())
    return repo


def apply(repo: Path, breakage: Breakage) -> None:
    path = repo / breakage.file
    text = path.read_text(encoding="utf-8")
    if text.count(breakage.old) != 1:
        raise SystemExit(f"{breakage.name}: expected one `{breakage.old.strip()}` in {breakage.file}, found {text.count(breakage.old)}")
    path.write_text(text.replace(breakage.old, breakage.new), encoding="utf-8")


def run(breakage: Breakage, pytest_args: list[str]) -> tuple[bool, list[str], float]:
    """(killed, failing test ids, seconds) for one breakage."""
    with tempfile.TemporaryDirectory(prefix="bpd-break-") as tmp:
        repo = copy_repository(Path(tmp))
        apply(repo, breakage)
        env = {**os.environ, "PYTHONPATH": str(repo), "PYTHONDONTWRITEBYTECODE": "1"}
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-rf", *pytest_args],
            cwd=repo, env=env, capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
    failed = [line.split(" ", 2)[1] for line in result.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return result.returncode != 0, failed, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", help="run only this breakage (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the breakages and exit")
    parser.add_argument("pytest_args", nargs="*", help="after `--`: what pytest runs (default: the whole suite, -x -n 2)")
    args = parser.parse_args()
    if args.list:
        for b in BREAKAGES:
            print(f"{b.name:18} {b.file}: {b.what}")
        return 0
    chosen = [b for b in BREAKAGES if not args.only or b.name in args.only]
    pytest_args = args.pytest_args or ["-x", "-n", "2"]
    survived = 0
    for b in chosen:
        killed, failed, seconds = run(b, pytest_args)
        survived += not killed
        print(f"{'killed  ' if killed else 'SURVIVED'} {b.name:18} {seconds:6.1f}s  {', '.join(failed[:4])}", flush=True)
    print(f"{len(chosen) - survived}/{len(chosen)} breakages killed")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
