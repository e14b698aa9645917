"""Fuzz the real CLI with mutated user files: does the contract hold on anything a user pastes?

Mutates the bundled samples, the test cases and a set of hostile files written here (lines
deleted, duplicated, swapped; operators, axes and numbers changed; pasted non-ASCII characters;
files truncated) and runs `backprop-doctor check MUTANT --format json` on each. A mutant breaks
the contract when

- the exit status is not 0 or 1 (2 is the tool's usage/internal error: a file cannot cause it),
- stdout is not valid JSON,
- the report or stderr holds "please report" or a Python traceback,
- the run hits the harness's own time limit (the tool must stop the user's code itself),
- any input file changed (every file in the mutant's folder is hashed before and after).

Run:  python benchmarks/fuzz.py -n 2000 --seed 0 --jobs 2
A bounded run (a few dozen mutants, fixed seed) is part of the test suite (tests/test_fuzz.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL_TIMEOUT = 20  # --timeout given to the tool for each file
HARNESS_TIMEOUT = 120  # the tool must have stopped the user's code long before this

HOSTILE = {
    "exits_in_forward.py": """
import sys
import numpy as np

class Layer:
    def __init__(self):
        self.W = np.ones((3, 2))
    def forward(self, x):
        sys.exit(4)
    def backward(self, dout):
        return dout @ self.W.T
""",
    "generator_forward.py": """
import numpy as np

class Layer:
    def __init__(self):
        self.W = np.ones((3, 2))
    def forward(self, x):
        yield x @ self.W
    def backward(self, dout):
        return dout @ self.W.T
""",
    "replaces_numpy.py": """
import numpy as np
np.sum = lambda *a, **k: 0.0
np.random.randn = None

class Layer:
    def __init__(self):
        self.W = np.ones((3, 2))
    def forward(self, x):
        self.x = x
        return x @ self.W
    def backward(self, dout):
        self.dW = self.x.T @ dout
        return dout @ self.W.T
""",
    "recursion_limit.py": """
import sys
sys.setrecursionlimit(50)
sys.path[:] = []
import numpy as np

def relu_forward(x):
    return np.maximum(0, x), x

def relu_backward(dout, cache):
    return dout * (cache > 0)
""",
    "loud.py": """
import numpy as np

class Layer:
    def __init__(self):
        self.W = np.ones((3, 2))
    def forward(self, x):
        print("x" * 1_000_000)
        self.x = x
        return x @ self.W
    def backward(self, dout):
        self.dW = self.x.T @ dout
        return dout @ self.W.T
""",
    "zero_size.py": """
import numpy as np

class Affine:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out)
        self.b = np.zeros(n_out)
    def forward(self, x):
        self.x = x
        return x @ self.W + self.b
    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T

layer = Affine(0, 3)
""",
}

PASTED = ["\u00a0", "\uff0c", "\u3000", "\u2212", "\u00d7", "\u201c", "# 中文注释", "# 日本語のコメント", "\ufeff"]
OPERATORS = [("+", "-"), ("-", "+"), ("*", "/"), ("/", "*"), ("@", "*"), (".T", ""), ("axis=0", "axis=1"), ("axis=1", "axis=0")]


def sources() -> dict[str, str]:
    """Name -> text of every file the mutants start from."""
    found = {name: text.lstrip("\n") for name, text in HOSTILE.items()}
    for folder in (ROOT / "samples", ROOT / "tests" / "cases"):
        for path in sorted(folder.glob("*.py")):
            found[path.name] = path.read_text(encoding="utf-8")
    return found


def mutate(text: str, rng: random.Random) -> tuple[str, str]:
    """One random mutation of `text`, and what it was."""
    lines = text.split("\n")
    kind = rng.choice(["delete", "duplicate", "swap", "operator", "number", "pasted", "truncate", "indent"])
    i = rng.randrange(len(lines))
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "operator":
        old, new = rng.choice(OPERATORS)
        candidates = [k for k, line in enumerate(lines) if old in line]
        if candidates:
            k = rng.choice(candidates)
            lines[k] = lines[k].replace(old, new, 1)
    elif kind == "number":
        candidates = [k for k, line in enumerate(lines) if re.search(r"\d", line)]
        if candidates:
            k = rng.choice(candidates)
            lines[k] = re.sub(r"\d+(\.\d+)?", lambda m: rng.choice(["0", "2", "1e9", "-1", "0.5"]), lines[k], count=1)
    elif kind == "pasted":
        line = lines[i]
        at = rng.randrange(len(line) + 1)
        lines[i] = line[:at] + rng.choice(PASTED) + line[at:]
    elif kind == "truncate":
        return text[: rng.randrange(len(text) + 1)], kind
    elif kind == "indent":
        lines[i] = ("\t" if rng.random() < 0.5 else "   ") + lines[i]
    return "\n".join(lines), kind


@dataclass
class Outcome:
    name: str
    mutation: str
    status: int | None
    seconds: float
    problems: list[str] = field(default_factory=list)


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def run_mutant(name: str, text: str, mutation: str, *, training: bool = False) -> Outcome:
    """Check one mutant in a folder of its own, through the real CLI, and judge the contract."""
    with tempfile.TemporaryDirectory(prefix="bpd-fuzz-") as tmp:
        folder = Path(tmp) / "user"
        folder.mkdir()
        path = folder / name
        path.write_text(text, encoding="utf-8")
        before = digest(folder)
        command = [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--timeout", str(TOOL_TIMEOUT)]
        if not training:
            command.append("--no-training")
        env = {**os.environ, "NO_COLOR": "1"}
        started = time.perf_counter()
        try:
            result = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace",
                                    timeout=HARNESS_TIMEOUT, cwd=tmp, env=env)  # fmt: skip
        except subprocess.TimeoutExpired:
            return Outcome(name, mutation, None, time.perf_counter() - started, ["harness time-out"])
        outcome = Outcome(name, mutation, result.returncode, time.perf_counter() - started)
        if result.returncode not in (0, 1):
            outcome.problems.append(f"exit {result.returncode}: {result.stderr.strip()[-300:]}")
        try:
            json.loads(result.stdout)
        except ValueError:
            outcome.problems.append("stdout is not JSON")
        for stream, said in (("stdout", result.stdout), ("stderr", result.stderr)):
            if "please report" in said:
                outcome.problems.append(f'"please report" in {stream}')
            if "Traceback (most recent call last)" in said and stream == "stderr":
                outcome.problems.append("traceback on stderr")
        if digest(folder) != before:
            outcome.problems.append("the user's folder changed")
        return outcome


def campaign(n: int, seed: int, jobs: int, *, training: bool = False) -> list[Outcome]:
    rng = random.Random(seed)
    bases = sources()
    names = sorted(bases)
    mutants = []
    for k in range(n):
        name = rng.choice(names)
        text, kind = mutate(bases[name], rng)
        if rng.random() < 0.3:  # some mutants carry two changes
            text, second = mutate(text, rng)
            kind += "+" + second
        mutants.append((f"m{k:05d}_{name}", text, kind))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda m: run_mutant(*m, training=training), mutants))


def summary(outcomes: list[Outcome]) -> str:
    statuses = Counter(o.status for o in outcomes)
    problems = Counter(p.split(":")[0] for o in outcomes for p in o.problems)
    times = sorted(o.seconds for o in outcomes)
    lines = [
        f"mutants: {len(outcomes)}",
        "exit status: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)),
        f"seconds per file: median {times[len(times) // 2]:.2f}, max {times[-1]:.2f}" if times else "",
        f"contract broken: {sum(1 for o in outcomes if o.problems)}",
    ]
    lines += [f"  {count} × {problem}" for problem, count in problems.most_common()]
    for o in [o for o in outcomes if o.problems][:20]:
        lines.append(f"  {o.name} ({o.mutation}): {'; '.join(o.problems)}")
    return "\n".join(line for line in lines if line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200, help="number of mutants")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--training", action="store_true", help="also run the training probe (slower)")
    args = parser.parse_args()
    outcomes = campaign(args.n, args.seed, args.jobs, training=args.training)
    print(summary(outcomes))
    return 1 if any(o.problems for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
