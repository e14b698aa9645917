"""Files per second of a folder run: `backprop-doctor check FOLDER -j 2`, warm workers against fresh ones.

The folder holds 95 files: the bundled `samples/`, every `tests/cases/**/*.py` and the seed
question (when ../shared/seed is present), then numbered copies of the same files until
there are 95 (copied into a temporary folder; nothing in the repository is touched). The
same command runs alternately with the fork server (the default) and with
`BACKPROP_DOCTOR_NO_FORK=1` (a fresh interpreter per file), so a change in the machine's
load hits both alike; the ratio of the two is the figure, not the seconds. The reports of
both runs are compared finding by finding (and root cause, verdict, measurements, what was
built, the training probe; not `extras` nor the curves of the user's own program, which run
on the clock and differ between two fresh runs too): a difference fails the run.

Run:  python benchmarks/bench_folder.py [--files 95] [--jobs 2] [--repeat 1] [--no-training]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "two_layer_net_question.py"
FILES = 95


def sources() -> list[Path]:
    found = sorted((ROOT / "samples").glob("*.py")) + sorted((ROOT / "tests" / "cases").rglob("*.py"))
    return found + ([SEED] if SEED.is_file() else [])


def build_folder(folder: Path, count: int = FILES) -> list[Path]:
    """`count` files in `folder`: every source once, then numbered copies, names kept apart by a prefix."""
    originals = sources()
    made = []
    for i in range(count):
        source = originals[i % len(originals)]
        target = folder / f"f{i:03d}_{source.name}"
        shutil.copyfile(source, target)
        made.append(target)
    return made


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(folder: Path, jobs: int, fork: bool, extra: list[str]) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds of every process of the run, and the JSON report."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("BACKPROP_DOCTOR_NO_FORK", None)
    if not fork:
        env["BACKPROP_DOCTOR_NO_FORK"] = "1"
    cpu = cpu_of_children()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(folder), "--format", "json", "-j", str(jobs), *extra],
        capture_output=True, text=True, env=env, cwd=folder, timeout=3600,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"the folder run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed, cpu_of_children() - cpu, json.loads(done.stdout)


# Curves of the user's own program, which run for a stretch of the clock (the observed run,
# the replayed loop): their length differs between two fresh runs as well.
ON_THE_CLOCK = ("program", "corrected")


def comparable(report: dict) -> dict:
    """What must be identical between two runs: all but `extras` (the observed run's timings,
    its loss curve and what the user's code printed) and the curves in `ON_THE_CLOCK`."""
    same = {k: v for k, v in report.items() if k != "extras"}
    if isinstance(same.get("training"), dict):
        same["training"] = {k: v for k, v in same["training"].items() if k not in ON_THE_CLOCK}
    return same


def differences(a: dict, b: dict) -> list[str]:
    """Each file whose report differs between two runs, finding by finding."""
    out = []
    first = {r["file"]: comparable(r) for r in a["files"]}
    second = {r["file"]: comparable(r) for r in b["files"]}
    for name in sorted(set(first) | set(second)):
        x, y = first.get(name), second.get(name)
        if x is None or y is None:
            out.append(f"{name}: only in one run")
            continue
        fx, fy = [json.dumps(f, sort_keys=True) for f in x["findings"]], [json.dumps(f, sort_keys=True) for f in y["findings"]]
        if fx != fy:
            gone, new = sorted(set(fx) - set(fy)), sorted(set(fy) - set(fx))
            out.append(f"{name}: findings differ; warm only: {new[:2]} fresh only: {gone[:2]}")
        elif json.dumps(x, sort_keys=True) != json.dumps(y, sort_keys=True):
            keys = [k for k in x if json.dumps(x.get(k), sort_keys=True) != json.dumps(y.get(k), sort_keys=True)]
            out.append(f"{name}: same findings, other fields differ: {keys}")
    return out


def measure(count: int, jobs: int, repeat: int, extra: list[str]) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bpd-folder-") as name:
        folder = Path(name)
        build_folder(folder, count)
        warm, fresh, warm_cpu, fresh_cpu = [], [], [], []
        reports: dict[bool, dict] = {}
        for _ in range(repeat):  # alternately
            for fork, times, cpus in ((False, fresh, fresh_cpu), (True, warm, warm_cpu)):
                seconds, cpu, reports[fork] = run(folder, jobs, fork, extra)
                times.append(seconds)
                cpus.append(cpu)
        diff = differences(reports[False], reports[True])
    flags = " ".join(extra)
    lines = [
        f"folder of {count} files, `check FOLDER -j {jobs}{' ' + flags if flags else ''}` (best of {repeat}):",
        f"  fresh interpreter per file  {count / min(fresh):6.2f} files/s  ({min(fresh):6.1f} s; CPU {min(fresh_cpu):6.1f} s)",
        f"  fork server (warm workers)  {count / min(warm):6.2f} files/s  ({min(warm):6.1f} s; CPU {min(warm_cpu):6.1f} s)",
        f"  speed-up {min(fresh) / min(warm):.2f}× wall, {min(fresh_cpu) / min(warm_cpu):.2f}× CPU  (target ≥ 1.8×); "
        f"reports {'identical' if not diff else 'DIFFER in ' + str(len(diff)) + ' files'}",
    ]
    return lines + [f"    {line}" for line in diff]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=FILES)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-training", action="store_true", help="pass --no-training to the check")
    args = parser.parse_args()
    lines = measure(args.files, args.jobs, args.repeat, ["--no-training"] if args.no_training else [])
    print("\n".join(lines))
    return 1 if any("DIFFER" in line for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
