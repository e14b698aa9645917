"""How much faster is backprop-doctor than the classic whole-network gradient check?

Side by side in one run, on a correct two-layer net 784-50-10 at batch 100 in float64:

* classic: the book's `numerical_gradient`, which perturbs every one of the
  39,760 parameters by ±h and evaluates the loss twice for each;
* backprop-doctor: `check_network`, which checks every layer in isolation and
  the whole-network gradient with directional probes.

Both are set against one forward pass (`net.loss`) timed in the same run, so the figures are
ratios that a busy machine changes little: the check in forward-pass equivalents (target at
most 20 for a clean network), the book's check over ours (target at least 2,000×). It also
counts the forward evaluations a clean layer costs (the target is at most 8).

Run:  python benchmarks/bench_gradcheck.py [--repeat 5]
(`python benchmarks/run_all.py` runs this comparison with torch's fast gradcheck alongside.)
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads its BLAS: the ratios must not depend on the core count

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

import nets  # noqa: E402

import backprop_doctor as bd  # noqa: E402

SAMPLE = nets.SAMPLE


definitions = nets.definitions
classic_numerical_gradient = nets.book_numerical_gradient


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of backprop-doctor (best is kept)")
    args = parser.parse_args()

    ns = definitions(SAMPLE)
    np.random.seed(0)
    net = ns["TwoLayerNet"](input_size=784, hidden_size=50, output_size=10)
    rng = np.random.default_rng(0)
    x = rng.random((100, 784))
    t = np.eye(10)[rng.integers(0, 10, 100)]
    n_params = sum(p.size for p in net.params.values())

    fast, forward = [], []
    for _ in range(args.repeat):  # a forward pass timed between checks: both see the same load
        for _ in range(10):
            start = time.perf_counter()
            net.loss(x, t)
            forward.append(time.perf_counter() - start)
        start = time.perf_counter()
        report = bd.check_network(net, x, t)
        fast.append(time.perf_counter() - start)
    assert report.ok, [f.message for f in report.findings if f.severity == "error"]

    start = time.perf_counter()
    classic = classic_numerical_gradient(net, x, t)
    slow = time.perf_counter() - start
    analytic = net.gradient(x, t)
    # The classic check itself is unreliable: elements whose ±h step crosses a ReLU kink disagree.
    disagree = sum(
        int(np.sum(np.abs(classic[k] - analytic[k]) / np.maximum(np.abs(classic[k]) + np.abs(analytic[k]), 1e-8) > 1e-4))
        for k in classic
    )

    affine = ns["Affine"](net.params["W1"], net.params["b1"])
    layer_report = bd.check_layer(affine, x)
    evaluations = layer_report.extras["forward_evaluations"]

    best = min(fast)
    equivalents = best / min(forward)
    print(f"two-layer net 784-50-10, batch 100, float64, {n_params} parameters, one BLAS thread")
    print(f"one forward pass (net.loss): {1e3 * min(forward):.3f} ms")
    print(
        f"classic numerical_gradient (every parameter): {slow:8.3f} s  (2 x {n_params} loss evaluations; "
        f"{disagree} elements off by > 1e-4, kinks crossed)"
    )
    print(
        f"backprop-doctor check_network (best of {args.repeat}): {best:8.3f} s = {equivalents:.1f} forward passes "
        f"({report.extras['forward_evaluations']} forward evaluations)   (target <= 20 forward passes)"
    )
    print(f"speed-up: {slow / best:,.0f}x   (target >= 2,000x)")
    print(f"forward evaluations for a clean Affine layer: {evaluations}   (target <= 8)")
    ok = slow / best >= 2000 and evaluations <= 8 and equivalents <= 20
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
