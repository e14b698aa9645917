"""A program that reads its data file's name from the command line (`loading.arguments`).

backprop-doctor runs the program with no arguments: `sys.argv[1]` raised IndexError before the
training was built. A read past the program's own path now gives the name of a text file that is
not there, which the program's `open` reads as synthetic English text (a `synthetic-data` note at
the line that read the argument), so its training runs and is replayed. A breakpoint left in the
code (`pdb.set_trace()`, `breakpoint()`) does nothing instead of stopping on a refused read of
standard input. A program that checks `len(sys.argv)` keeps its own default. Nothing is written to
the user's folder. Real CLI, in a subprocess.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, step_verdicts, write

# top level, as a character-level model's script: open(sys.argv[1]).read(), then a debugger stop
TOP_LEVEL = '''
import sys
import pdb
import numpy as np

path = sys.argv[1]
text = open(path, 'r').read()
pdb.set_trace()
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
V = len(chars)
ids = np.array([index[c] for c in text[:400]])
X, y = np.eye(V)[ids[:-1]], ids[1:]
n = len(y)
rng = np.random.default_rng(0)
W = 0.01 * rng.standard_normal((V, V))
for step in range(40):
    z = X @ W
    P = np.exp(z - z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    loss = -np.log(P[np.arange(n), y]).mean()
    dz = P.copy()
    dz[np.arange(n), y] -= 1
    dW = X.T @ dz / n
    W -= 1.0 * dW
'''

# inside main(), the argument read through a name, breakpoint() before the loop
IN_MAIN = '''
import sys
import numpy as np


def load(filename):
    with open(filename) as handle:
        words = handle.read().split()
    vocab = sorted(set(words))
    return np.array([vocab.index(w) for w in words[:300]]), len(vocab)


def main():
    corpus = sys.argv[1]
    ids, V = load(corpus)
    X, y = np.eye(V)[ids[:-1]], ids[1:]
    n = len(y)
    W, b = np.zeros((V, V)), np.zeros(V)
    breakpoint()
    for epoch in range(30):
        z = X @ W + b
        P = np.exp(z - z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        loss = -np.log(P[np.arange(n), y]).mean()
        P[np.arange(n), y] -= 1
        dW = X.T @ P / n
        db = P.sum(axis=0) / n
        W -= 0.5 * dW
        b -= 0.5 * db


if __name__ == "__main__":
    main()
'''


def _state(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*"))


def _checked(tmp_path, text):
    path = write(tmp_path, "model.py", text)
    before = _state(tmp_path)
    report = check(path, training=True)
    assert _state(tmp_path) == before  # nothing written to the user's folder
    assert not any(f["name"] in ("program-stopped", "sandbox-blocked", "nothing-to-check") for f in report["findings"]), report["findings"]
    return path, report


def _argument_note(report, path, read):
    (note,) = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert note["line"] == line_of(path, read), note
    assert "`sys.argv[1]`" in note["message"] and "command-line argument" in note["message"] and "synthetic English text" in note["message"]


def test_a_top_level_open_of_sys_argv_1_past_a_debugger_stop_runs_to_its_training(tmp_path):
    path, report = _checked(tmp_path, TOP_LEVEL)
    _argument_note(report, path, "path = sys.argv[1]")
    assert set(step_verdicts(report).values()) == {"ok"}, step_verdicts(report)
    assert errors(report) == []


def test_an_argument_read_in_main_and_opened_by_a_helper_runs_past_breakpoint(tmp_path):
    path, report = _checked(tmp_path, IN_MAIN)
    _argument_note(report, path, "corpus = sys.argv[1]")
    assert set(step_verdicts(report).values()) == {"ok"}, step_verdicts(report)
    assert errors(report) == []


def test_a_wrong_gradient_behind_the_argument_is_found(tmp_path):
    _, report = _checked(tmp_path, IN_MAIN.replace("        db = P.sum(axis=0) / n\n", "        db = P.sum(axis=1).mean()\n"))
    assert step_verdicts(report).get("b") == "mismatch", step_verdicts(report)
    assert errors(report)
    # a program that asks len(sys.argv) first keeps its own default, and is told nothing about arguments
    guarded = IN_MAIN.replace("    corpus = sys.argv[1]\n", "    corpus = sys.argv[1] if len(sys.argv) > 1 else 'corpus.txt'\n")
    (tmp_path / "guarded").mkdir()
    _, report = _checked(tmp_path / "guarded", guarded)
    assert [f["message"] for f in report["findings"] if f["name"] == "synthetic-data"] == [
        next(f["message"] for f in report["findings"] if f["name"] == "synthetic-data" and "corpus.txt" in f["message"])
    ]
