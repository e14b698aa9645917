"""Every benchmark in one run, reported as ratios measured side by side.

Nothing here is a fixed number of seconds: a busy machine slows the check, the forward
pass, torch and the book alike, so their ratios hold where absolute times do not.

    python benchmarks/run_all.py            # everything (the book's check alone takes ~30 s)
    python benchmarks/run_all.py --quick    # fewer repeats; the book timed on 5 % of its parameters

Columns: ms per check (min / median), forward-pass equivalents (check ÷ one `net.loss`),
speed ratio to torch's `gradcheck(fast_mode=True)` on the same net (input and parameters;
skipped when torch is not installed: `pip install -e '.[bench]'`) and to the book's
`numerical_gradient`, peak traced memory as a multiple of the parameters' bytes, and files
per second of a 95-file folder run with warm workers against a fresh interpreter per file
(`bench_folder.py`; with --quick, without the training probe).
One BLAS thread everywhere, so the comparison does not depend on the core count.
Each timed row is followed by the same in CPU time (`time.thread_time`): on a machine shared
with other work, a long call is preempted far more often than a 0.3 ms forward pass, which
inflates its wall-time ratio; the CPU-time ratio leaves that out.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy (and torch) load their BLAS

import argparse  # noqa: E402
import functools  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import nets  # noqa: E402

import backprop_doctor as bd  # noqa: E402

# The figures each section measured, for the closing table: name -> (value, target, met?)
SUMMARY: dict[str, tuple[str, str, bool | None]] = {}


def timed(call, repeat: int, cpu: list[float] | None = None) -> list[float]:
    """Wall times of `repeat` calls; with `cpu`, the thread's CPU time of each is appended there too."""
    times = []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.thread_time()
        call()
        times.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.thread_time() - start_cpu)
    return times


def ms(times: list[float]) -> str:
    return f"{1e3 * min(times):9.2f} / {1e3 * statistics.median(times):9.2f}"


def ratio(slow: list[float], fast: list[float]) -> str:
    """How many times faster `fast` is, min against min and median against median."""
    return f"{min(slow) / min(fast):7.1f}× / {statistics.median(slow) / statistics.median(fast):7.1f}×"


# -- torch's fast gradcheck on the same network ------------------------------------------


def torch_gradcheck(net, x, t):
    """A callable running torch's fast-mode gradcheck on the same net (None without torch)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    p = net.params
    inputs = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, p["W1"], p["b1"], p["W2"], p["b2"]))
    labels = torch.tensor(t.argmax(axis=1))
    n = x.shape[0]

    def loss(x, W1, b1, W2, b2):
        y = torch.relu(x @ W1 + b1) @ W2 + b2
        y = torch.softmax(y - y.max(dim=1, keepdim=True).values, dim=1)
        return -torch.log(y[torch.arange(n), labels] + 1e-7).sum() / n

    def run():
        return torch.autograd.gradcheck(loss, inputs, fast_mode=True, raise_exception=False)

    run.ok = run()  # type: ignore[attr-defined]
    run.version = torch.__version__  # type: ignore[attr-defined]
    return run


# -- the sections -------------------------------------------------------------------------


def speed(args) -> list[str]:
    net, x, t = nets.two_layer_net()
    n_params = sum(p.size for p in net.params.values())
    forward_cpu: list[float] = []
    forward = timed(lambda: net.loss(x, t), args.repeat * 20, forward_cpu)
    report = bd.check_network(net, x, t)
    assert report.ok, [f.message for f in report.findings]
    evaluations = report.extras["forward_evaluations"]
    torch_run = torch_gradcheck(net, x, t)
    ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
    for _ in range(args.repeat):  # alternately, so a change in the machine's load hits both alike
        ours += timed(lambda: bd.check_network(net, x, t), 1, ours_cpu)
        theirs += timed(torch_run, 1, theirs_cpu) if torch_run else []
    theirs = theirs or None

    gradient_calls = count_gradient_calls(net, x, t)

    fraction = args.book_fraction
    book_net, _, _ = nets.two_layer_net()
    if fraction < 1:  # time the book on the first part of W1, extrapolate by parameter count
        keep = max(1, int(fraction * book_net.params["W1"].shape[1]))
        book_net.params = {"W1": book_net.params["W1"][:, :keep]}  # a view: perturbing it perturbs the net's W1
        counted = book_net.params["W1"].size
    else:
        counted = n_params
    start = time.perf_counter()
    nets.book_numerical_gradient(book_net, x, t)
    book = [(time.perf_counter() - start) * n_params / counted]

    lines = [
        f"784-50-10 net, batch 100, float64, {n_params} parameters, one BLAS thread",
        f"{'':34}{'ms min / median':>22}{'fwd-equiv':>11}{'evals':>7}   speed-up of check_network (min / median)",
        f"{'one forward pass (net.loss)':34}{ms(forward):>22}{1.0:>11.1f}{1:>7}",
        f"{'backprop-doctor check_network':34}{ms(ours):>22}{min(ours) / min(forward):>11.1f}{evaluations:>7}",
    ]
    lines.append(
        f"{'  the same in CPU time':34}{ms(ours_cpu):>22}{min(ours_cpu) / min(forward_cpu):>11.1f}{'':>7}   "
        "(the thread's CPU time: a busy machine's preemption left out)"
    )
    if theirs:
        lines.append(
            f"{'torch ' + torch_run.version + ' gradcheck fast_mode':34}{ms(theirs):>22}{min(theirs) / min(forward):>11.1f}{'':>7}   "
            f"{ratio(theirs, ours)}  (torch verdict: {'pass' if torch_run.ok else 'FAIL'})"
        )
        lines.append(f"{'  the same in CPU time':34}{ms(theirs_cpu):>22}{min(theirs_cpu) / min(forward_cpu):>11.1f}{'':>7}   {ratio(theirs_cpu, ours_cpu)}")
    else:
        lines.append(f"{'torch gradcheck fast_mode':34}{'torch not installed':>22}")
    note = "" if fraction >= 1 else f"  (timed on {100 * fraction:g}% of W1, scaled)"
    lines.append(
        f"{'book numerical_gradient':34}{ms(book):>22}{min(book) / min(forward):>11.0f}{2 * n_params:>7}   "
        f"{min(book) / min(ours):7.0f}× / {min(book) / statistics.median(ours):7.0f}×{note}"
    )
    lines.append(f"calls of the network's own gradient(x, t) in one check: {gradient_calls}")
    equivalents, equivalents_cpu = min(ours) / min(forward), min(ours_cpu) / min(forward_cpu)
    SUMMARY["check_network, forward-pass equivalents (wall / CPU)"] = (f"{equivalents:.1f} / {equivalents_cpu:.1f}", "≤ 20", equivalents <= 20)
    if theirs:
        speedup, speedup_cpu = min(theirs) / min(ours), min(theirs_cpu) / min(ours_cpu)
        SUMMARY["speed-up on torch gradcheck fast_mode (wall / CPU)"] = (f"{speedup:.1f}× / {speedup_cpu:.1f}×", "≥ 4×", speedup >= 4)
    SUMMARY["speed-up on the book's numerical_gradient"] = (f"{min(book) / min(ours):.0f}×{' (scaled)' if fraction < 1 else ''}", "≥ 2000×", min(book) / min(ours) >= 2000)
    return lines


def count_gradient_calls(net, x, t) -> int:
    """How often one `check_network` calls the network's own `gradient` (a clean net: once)."""
    cls = type(net)
    original, calls = cls.gradient, []

    @functools.wraps(original)  # its signature: a `gradient()` taking no x and t is called otherwise
    def counted(self, *a, **k):
        calls.append(1)
        return original(self, *a, **k)

    cls.gradient = counted
    try:
        bd.check_network(net, x, t)
    finally:
        cls.gradient = original
    return len(calls)


def deep(args) -> list[str]:
    lines = ["deep 784-100×5-10 ReLU net, batch 100: the same check at two initial scales"]
    evaluations = {}
    clean = True
    for init in (0.01, "he"):
        net, x, t = nets.deep_net(init)
        times = []
        for _ in range(max(1, args.repeat // 2)):
            start = time.perf_counter()
            report = bd.check_network(net, x, t)
            times.append(time.perf_counter() - start)
        evaluations[init] = report.extras["forward_evaluations"]
        clean = clean and not report.findings
        found = ", ".join(sorted({f"{f.code} {f.layer}.{f.param}" for f in report.findings})) or "clean"
        lines.append(f"  weight_init_std={init!s:<5}{ms(times):>22} ms {evaluations[init]:>6} evals   {found}")
    a, b = evaluations.values()
    lines.append(f"  evaluations ratio (0.01 ÷ He): {a / b:.2f}  (target ≤ 2)")
    SUMMARY["deep 5×100 net: clean at 0.01 and He; evaluations 0.01 ÷ He"] = (
        f"{'clean' if clean else 'FINDINGS'}, {a / b:.2f} ({a} ÷ {b})",
        "clean, ≤ 2",
        clean and a / b <= 2,
    )
    return lines


def memory(args) -> list[str]:
    bd.check_network(*nets.two_layer_net(hidden=50))  # imports and cached source lines are not the check's memory
    net, x, t = nets.two_layer_net(hidden=3200)
    param_bytes = sum(p.nbytes for p in net.params.values())
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    report = bd.check_network(net, x, t)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.ok
    multiple = (peak - base) / param_bytes
    SUMMARY["784-3200-10 net: peak traced memory ÷ parameters"] = (f"{multiple:.2f}×", "≤ 3×", multiple <= 3)
    lines = [
        f"784-3200-10 net, batch 100: parameters {param_bytes / 2**20:.1f} MiB; "
        f"check_network peak traced memory {multiple:.2f}× the parameters  (target ≤ 3×)"
    ]
    if not args.quick:  # where that peak is (bench_memory.py --breakdown)
        import bench_memory

        lines += bench_memory.breakdown(3200)
    return lines


def startup(args) -> list[str]:
    code = (
        "import sys, time; s = time.perf_counter(); {stmt}; e = time.perf_counter() - s; "
        "print(e, sum(m.startswith('backprop_doctor.checks.') for m in sys.modules))"
    )

    def measure(stmt: str) -> list[tuple[float, int]]:
        out = []
        for _ in range(args.repeat):
            result = subprocess.run([sys.executable, "-c", code.format(stmt=stmt)], capture_output=True, text=True, cwd=ROOT, check=True)
            seconds, modules = result.stdout.split()
            out.append((float(seconds), int(modules)))
        return out

    rules = measure("from backprop_doctor.rules import all_rules; all_rules()")
    numpy = measure("import numpy")
    r = [s for s, _ in rules]
    return [
        f"start-up: reading every rule's metadata {ms(r)} ms = {min(r) / min(s for s, _ in numpy):.2f}× `import numpy`, "
        f"{rules[0][1]} check modules imported"
    ]


def probe(args) -> list[str]:
    """The training probe of a seed-sized file, in calls of the file's own `gradient`.

    `check_file` runs in this process; `probe_network` is wrapped to time the probe alone.
    Dividing its time by one `gradient(x, t)` of the same network at batch 100 gives a figure
    that a busy machine changes little: every SGD step of the probe costs one such call, so
    it counts the steps the probe takes plus its own overhead.
    """
    from backprop_doctor import pipeline
    from backprop_doctor.loading.namespace import load_namespace
    from backprop_doctor.loading.source import read_source
    from backprop_doctor.training import probe as probe_module

    seed = ROOT.parent / "shared" / "seed" / "two_layer_net_question.py"
    path = seed if seed.is_file() else ROOT / "samples" / "two_layer_net_batch_softmax.py"
    ns, _ = load_namespace(read_source(path)[0], False)  # the tool's own loader: the seed has pasted characters
    np.random.seed(0)
    net = ns["TwoLayerNet"](784, 50, 10)
    rng = np.random.default_rng(0)
    x, t = rng.random((100, 784)), np.eye(10)[rng.integers(0, 10, 100)]

    spent: list[float] = []
    original = probe_module.probe_network

    def timed_probe(*a, **k):
        start = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            spent.append(time.perf_counter() - start)

    probe_module.probe_network = timed_probe
    checks, probes, found = [], [], []
    try:
        for _ in range(max(2, args.repeat // 2)):
            spent.clear()
            start = time.perf_counter()
            report = pipeline.check_file(path)
            checks.append(time.perf_counter() - start)
            probes.append(sum(spent))
            found = sorted(f.code for f in report.findings)
    finally:
        probe_module.probe_network = original
    gradient = timed(lambda: net.gradient(x, t), 50)
    SUMMARY["training probe's share of a seed check"] = (f"{100 * min(probes) / min(checks):.0f}%", "", None)
    return [
        f"training probe of {path.name} (check_file in this process): check {ms(checks)} ms, probe {ms(probes)} ms "
        f"= {100 * min(probes) / min(checks):.0f}% of the check",
        f"  probe = {min(probes) / min(gradient):.0f} calls of the file's own gradient(x, t) at batch 100 "
        f"({1e3 * min(gradient):.2f} ms each); findings {' '.join(found)}",
    ]


def whole_check(args) -> list[str]:
    script = HERE / "bench_check.py"
    result = subprocess.run([sys.executable, str(script), "--repeat", str(max(1, args.repeat // 3))], capture_output=True, text=True, cwd=ROOT)
    return ["whole `backprop-doctor check` (benchmarks/bench_check.py):", *("  " + line for line in result.stdout.splitlines())]


def folder(args) -> list[str]:
    """Files per second of a 95-file folder run, warm workers (fork server) against a fresh
    interpreter per file, run alternately; the reports of both compared finding by finding."""
    script = HERE / "bench_folder.py"
    extra = ["--no-training"] if args.quick else []
    result = subprocess.run([sys.executable, str(script), *extra], capture_output=True, text=True, cwd=ROOT)
    lines = result.stdout.splitlines() or [f"bench_folder.py failed: {result.stderr.strip()[-500:]}"]
    return [lines[0], *("  " + line for line in lines[1:])]


SECTIONS = {"speed": speed, "deep": deep, "memory": memory, "startup": startup, "probe": probe, "check": whole_check, "folder": folder}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per measurement (min and median shown)")
    parser.add_argument("--book-fraction", type=float, default=1.0, help="part of the parameters the book's check is timed on")
    parser.add_argument("--quick", action="store_true", help="--repeat 5 --book-fraction 0.05")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append", help="run only these sections")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.book_fraction = 5, 0.05
    for name in args.only or SECTIONS:
        for line in SECTIONS[name](args):
            print(line, flush=True)
        print()
    if SUMMARY:
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
        print(f"summary (load average {load}; min of {args.repeat} runs, ratios measured side by side)")
        for what, (value, target, met) in SUMMARY.items():
            verdict = "" if met is None else ("met" if met else "NOT met")
            print(f"  {what:62}{value:>18}  {target:>9}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
