"""Two versions of `check_network` side by side in one process, called alternately.

    python benchmarks/bench_versions.py --before REV            # REV: a git revision of this repository
    python benchmarks/bench_versions.py --before REV --repeat 50

The version at REV is exported (`git archive`) to a temporary folder and imported under the
name `bd_before`, beside this worktree's `backprop_doctor`; each round calls one forward pass
(ten times), then the version before, the version now and torch's `gradcheck(fast_mode=True)` when
torch is installed, in an order shuffled each round (a check right after another check of the same
network runs from a warm cache), so a change in the machine's load hits all of them alike. Prints the min
and median of each in ms, as forward-pass equivalents (wall and the thread's CPU time, of the
minimum and of the median), and the ratios between them; then the same CPU figures split by the call
made just before each (a check right after torch runs from caches torch has taken).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy (and torch) load their BLAS

import argparse  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import nets  # noqa: E402
import run_all  # noqa: E402

import backprop_doctor as bd  # noqa: E402


def import_revision(revision: str, folder: Path):
    """The package at `revision`, imported as `bd_before` from `folder`."""
    archive = subprocess.run(["git", "archive", revision, "backprop_doctor"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    package = folder / "backprop_doctor"
    for path in package.rglob("*.py"):
        path.write_text(path.read_text(encoding="utf-8").replace("backprop_doctor", "bd_before"), encoding="utf-8")
    package.rename(folder / "bd_before")
    sys.path.insert(0, str(folder))
    return importlib.import_module("bd_before")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision of the version to compare with")
    parser.add_argument("--repeat", type=int, default=30, help="rounds (min and median shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before = import_revision(args.before, Path(folder))
        net, x, t = nets.two_layer_net()
        torch_run = run_all.torch_gradcheck(net, x, t)
        calls = {
            "forward pass (net.loss)": lambda: net.loss(x, t),
            f"check_network at {args.before}": lambda: before.check_network(net, x, t),
            "check_network now": lambda: bd.check_network(net, x, t),
        }
        if torch_run is not None:
            calls[f"torch {torch_run.version} gradcheck fast_mode"] = torch_run
        for name in list(calls)[1:3]:
            report = calls[name]()
            assert report.ok and not report.findings, (name, [f.message for f in report.findings])
        wall: dict[str, list[float]] = {name: [] for name in calls}
        cpu: dict[str, list[float]] = {name: [] for name in calls}
        after: dict[tuple[str, str], list[float]] = {}  # (call, the call made just before it) -> CPU times
        # the calls after the forward passes in a new order each round: a check run right after another check of the
        # same network finds its arrays in the cache, one run after torch does not (about 1.2x between them)
        order = random.Random(0)
        for _ in range(args.repeat):
            rest = list(calls.items())[1:]
            order.shuffle(rest)
            previous = ""
            for name, call in [next(iter(calls.items())), *rest]:
                for _ in range(10 if name.startswith("forward") else 1):
                    start, start_cpu = time.perf_counter(), time.thread_time()
                    call()
                    wall[name].append(time.perf_counter() - start)
                    cpu[name].append(time.thread_time() - start_cpu)
                    after.setdefault((name, previous), []).append(cpu[name][-1])
                    previous = name
        first = next(iter(calls))
        unit, unit_cpu = min(wall[first]), min(cpu[first])
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
        print(f"784-50-10 net, batch 100, float64, one BLAS thread; {args.repeat} rounds; load average {load}")
        median, median_cpu = statistics.median(wall[first]), statistics.median(cpu[first])
        print(f"{'':40}{'ms min / median':>20}{'fwd-equiv (CPU)':>18}{'median (CPU)':>16}")
        for name in calls:
            print(
                f"{name:40}{1e3 * min(wall[name]):9.2f} / {1e3 * statistics.median(wall[name]):8.2f}"
                f"{min(wall[name]) / unit:10.1f} ({min(cpu[name]) / unit_cpu:5.1f})"
                f"{statistics.median(wall[name]) / median:9.1f} ({statistics.median(cpu[name]) / median_cpu:5.1f})"
            )
        names = list(calls)
        print(f"now ÷ before (min, CPU min): {min(wall[names[1]]) / min(wall[names[2]]):.2f}× faster, {min(cpu[names[1]]) / min(cpu[names[2]]):.2f}× (CPU)")
        if torch_run is not None:
            for name in names[1:3]:
                print(f"torch ÷ {name}: {min(wall[names[3]]) / min(wall[name]):.2f}× (CPU {min(cpu[names[3]]) / min(cpu[name]):.2f}×)")
        # where each minimum comes from: a call right after torch finds its caches taken, one after the other
        # check or the forward passes finds them warmer (the same figures as above, split by the call before)
        print("CPU min / median by the call made just before (forward-pass equivalents; rounds):")
        for name in names[1:]:
            cells = [
                f"after {'forward passes' if prior.startswith('forward') else 'torch' if prior.startswith('torch') else prior}: "
                f"{min(times) / unit_cpu:.1f} / {statistics.median(times) / median_cpu:.1f} ({len(times)})"
                for (called, prior), times in sorted(after.items())
                if called == name
            ]
            print(f"  {name:38}" + " · ".join(sorted(cells)))
        print("forward evaluations per check:", before.check_network(net, x, t).extras["forward_evaluations"], "→", bd.check_network(net, x, t).extras["forward_evaluations"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
