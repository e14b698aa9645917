"""How long does a whole `backprop-doctor check` of a seed-sized net take?

The seed case is a two-layer net 784-50-10 with a batch-wide softmax. This times the real
command (child process, loading, discovery, every layer, the whole-network gradient, the
structural checks and the training probe with its reference run) on the bundled sample of
that size, and on the real user's file when ../shared/seed is present. The issue asks for
"a few seconds".

Run:  python benchmarks/bench_check.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "samples" / "two_layer_net_batch_softmax.py", ROOT.parent / "shared" / "seed" / "two_layer_net_question.py"]
TARGET_SECONDS = 5.0


def run(path: Path, *extra: str) -> tuple[float, dict]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", *extra],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=300,
    )
    elapsed = time.perf_counter() - start
    return elapsed, json.loads(result.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ok = True
    for path in FILES:
        if not path.is_file():
            print(f"{path.name}: not present, skipped")
            continue
        full = [run(path)[0] for _ in range(args.repeat)]
        quick = [run(path, "--no-training")[0] for _ in range(args.repeat)]
        _, data = run(path)
        root = data["root_cause"]
        best = min(full)
        ok &= best <= TARGET_SECONDS
        print(
            f"{path.name}: whole check {best:.2f} s (best of {args.repeat}; median {sorted(full)[len(full) // 2]:.2f} s), "
            f"without the training probe {min(quick):.2f} s; root cause {root['name'] if root else None} "
            f"at line {root['line'] if root else '-'}"
        )
    print(f"target: a few seconds (<= {TARGET_SECONDS:g} s)  {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
