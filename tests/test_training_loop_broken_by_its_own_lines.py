"""Two ways a training loop breaks itself: a gradient in its parameter's shape transposed, which
stops the program at the update (never "no problems found"), and a parameter given new random values
at the start of every pass, which throws each update away."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

SCRIPT = '''\
import numpy as np

np.random.seed(0)
X = np.random.randn(64, 10)
y = np.random.randint(0, 3, 64)
W1 = 0.1 * np.random.randn(10, 32)
b1 = np.zeros(32)
W2 = 0.1 * np.random.randn(32, 3)
b2 = np.zeros(3)
lr = 0.5
for it in range(100):
    h = np.maximum(0, X @ W1 + b1)
    s = h @ W2 + b2
    s -= s.max(1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    loss = -np.log(p[np.arange(64), y]).mean()
    ds = p.copy()
    ds[np.arange(64), y] -= 1
    ds /= 64
    dW2 = h.T @ ds
    db2 = ds.sum(0)
    dh = ds @ W2.T
    dh[h <= 0] = 0
    dW1 = X.T @ dh
    db1 = dh.sum(0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''


def test_the_right_loop_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "net.py", SCRIPT))) == []


def test_a_transposed_gradient_stops_the_program_and_is_named_at_its_update(tmp_path):
    path = planted(tmp_path, "net.py", SCRIPT, "dW2 = h.T @ ds", "dW2 = ds.T @ h")
    report = check(path)
    (finding,) = errors(report)
    assert (finding["name"], finding["pattern"], finding["line"]) == ("program-stopped", "stopped-in-training", line_of(path, "W2 -= lr * dW2"))
    assert "the update of `W2`" in finding["message"] and "gets `dW2` of shape (3, 32) for `W2` of shape (32, 3)" in finding["message"]
    assert not report["verdict"].startswith("✓")


def test_a_parameter_drawn_again_every_pass_is_named_at_its_line(tmp_path):
    source = SCRIPT.replace("for it in range(100):\n", "for it in range(100):\n    W2 = 0.1 * np.random.randn(32, 3)\n")
    path = write(tmp_path, "net.py", source)
    found = [f for f in errors(check(path)) if f["param"] == "W2"]
    assert len(found) == 1
    drawn = line_of(path, "    W2 = 0.1 * np.random.randn(32, 3)")
    assert f"`W2` is given new values at line {drawn} at the start of every pass" in found[0]["message"]
    assert found[0]["message"].endswith("initialise it once, before the loop")
