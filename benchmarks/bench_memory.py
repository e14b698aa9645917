"""Peak memory of `check_network` on a 784-3200-10 network, and what that peak is made of.

tracemalloc traces every NumPy buffer and Python object the check allocates. The parameters
are allocated before tracing starts, so the figure is what the check adds, as a multiple of
the parameters' bytes. A first check of a small network runs before, so that the modules the
check imports and the source lines it caches are not counted as the check's memory (the
cold figure, with them, is printed too).

With --breakdown, a profile hook takes a tracemalloc snapshot each time the traced memory
reaches a new high, and the last one is split by who allocated each block: the check's copy
of the network (`copy.py`, `conventions.isolated`), the user's own code (the network's
file), backprop-doctor's own code, and one-off costs (imports, `linecache`). It is slow
(a hook on every call) and only says where the peak is.

On the 784-3200-10 net (Dec 2026, before issue 14's last round) both high points were the
second backward of the re-entrancy contract (`engine._contracts`), inside the user's
`self.dW = np.dot(...)`: the check's copy of the network (1.00×), the first call's dW1 still
held by the user's layer (0.99×), the second call's (0.99×), the user's own temporaries; 3.41×
in all. Now the network's own second `gradient` call is made only where state could carry over
(`engine._carries_state`), and a large gradient the first backward bound afresh is let go
before the second (`engine.LayerCheck._stand_ins`: a read-only NaN stand-in in the layer, the
first values kept as a fingerprint and in float32): the high point is Affine1's second
backward at about 2.75× (the copy 1.00×, the float32 first gradient 0.5×, the second 1.00×).

Run:  python benchmarks/bench_memory.py [--hidden 3200] [--breakdown]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads its BLAS

import argparse  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import nets  # noqa: E402

import backprop_doctor as bd  # noqa: E402

PACKAGE = str(HERE.parent / "backprop_doctor")
TARGET = 3.0


def peak(hidden: int, breakdown: bool = False) -> tuple[float, dict[str, float]]:
    """Peak traced memory of one check as a multiple of the parameters' bytes; with
    `breakdown`, the same split by who allocated the blocks alive at the peak."""
    net, x, t = nets.two_layer_net(hidden=hidden)
    param_bytes = sum(p.nbytes for p in net.params.values())
    tracemalloc.start(25 if breakdown else 1)
    base, _ = tracemalloc.get_traced_memory()
    highest: list = [0, None]

    def hook(frame, event, arg):
        current, _ = tracemalloc.get_traced_memory()
        if current - base > highest[0] + param_bytes // 100:
            highest[:] = [current - base, tracemalloc.take_snapshot()]

    if breakdown:
        sys.setprofile(hook)
    try:
        report = bd.check_network(net, x, t)
    finally:
        sys.setprofile(None)
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.ok, [f.message for f in report.findings]
    parts: dict[str, float] = {}
    if highest[1] is not None:
        for stat in highest[1].statistics("traceback"):
            parts[_owner(stat.traceback)] = parts.get(_owner(stat.traceback), 0.0) + stat.size / param_bytes
    return (top - base) / param_bytes, parts


def per_check(hidden: int) -> list[tuple[str, float, float]]:
    """(layer, traced memory when its check starts, peak during it), as multiples of the
    parameters' bytes, for each `LayerCheck` that `check_network` runs (the layers, then the net)."""
    from backprop_doctor import engine

    net, x, t = nets.two_layer_net(hidden=hidden)
    param_bytes = sum(p.nbytes for p in net.params.values())
    rows: list[tuple[str, float, float]] = []
    original = engine.LayerCheck.run

    def run(check):
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        try:
            return original(check)
        finally:
            _, top = tracemalloc.get_traced_memory()
            rows.append((check.layer, (current - base) / param_bytes, (top - base) / param_bytes))

    engine.LayerCheck.run = run
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    try:
        bd.check_network(net, x, t)
    finally:
        tracemalloc.stop()
        engine.LayerCheck.run = original
    return rows


def _owner(traceback: tracemalloc.Traceback) -> str:
    """Who allocated a block: the innermost frame that is not NumPy's or the standard library's
    decides, except that a deep copy is the check's copy of the network wherever it was made."""
    files = [frame.filename for frame in reversed(traceback)]  # innermost first
    if any(f.endswith(os.sep + "copy.py") for f in files):
        return "the check's copy of the network (deepcopy)"
    if any("importlib" in f or f.endswith("linecache.py") for f in files[:3]):
        return "one-off: imports and cached source lines"
    for f in files:
        if f.startswith(PACKAGE):
            return "backprop-doctor's own arrays"
        if "site-packages" not in f and "/lib/python" not in f and not f.startswith("<"):
            return f"the user's code ({Path(f).name})"
    return "other"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=3200)
    parser.add_argument("--breakdown", action="store_true", help="split the peak by who allocated it (slow)")
    args = parser.parse_args()
    cold, _ = peak(args.hidden)
    warm, _ = peak(args.hidden)
    print(
        f"784-{args.hidden}-10 net, batch 100: check_network peak traced memory {warm:.2f}× the parameters "
        f"(first check in the process, with its imports: {cold:.2f}×)  (target ≤ {TARGET:g}×)"
    )
    if args.breakdown:
        print("\n".join(breakdown(args.hidden)))
    return 0


def breakdown(hidden: int) -> list[str]:
    """The peak of each check `check_network` runs, and who allocated the blocks alive at the highest."""
    lines = ["  each check: traced memory at its start → its peak (× the parameters)"]
    lines += [f"    {layer:<20}{start:6.2f}× → {top:5.2f}×" for layer, start, top in per_check(hidden)]
    _, parts = peak(hidden, breakdown=True)
    lines.append("  alive at the highest point, by who allocated it:")
    lines += [f"    {share:5.2f}×  {owner}" for owner, share in sorted(parts.items(), key=lambda item: -item[1]) if share >= 0.005]
    return lines


if __name__ == "__main__":
    sys.exit(main())
