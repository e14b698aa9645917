"""A gradient the step adds to (`dW1 += ...`) but that is zeroed only once, before the training loop:
from the second step on, each update moves by the sum of every gradient so far. The replay names
it as such, at the line that adds; the twin that zeroes it at the start of each step is clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3))
y = (X @ np.array([[1.5], [-2.0], [0.7]]) > 0).astype(float)
W1 = rng.normal(size=(3, 16)) * 0.5
W2 = rng.normal(size=(16, 1)) * 0.5
lr = 0.5
for epoch in range(50):
    for i in range(0, 200, 20):
        xb, yb = X[i:i + 20], y[i:i + 20]
        dW1 = np.zeros_like(W1)
        dW2 = np.zeros_like(W2)
        a1 = np.tanh(xb @ W1)
        p = 1 / (1 + np.exp(-(a1 @ W2)))
        loss = -np.mean(yb * np.log(p) + (1 - yb) * np.log(1 - p))
        dz2 = (p - yb) / len(xb)
        dW2 += a1.T @ dz2
        dz1 = dz2 @ W2.T * (1 - a1 ** 2)
        dW1 += xb.T @ dz1
        W1 -= lr * dW1
        W2 -= lr * dW2
'''

ZEROED_IN_THE_STEP = "        dW1 = np.zeros_like(W1)\n        dW2 = np.zeros_like(W2)\n"
ZEROED_BEFORE = "W1 = rng.normal(size=(3, 16)) * 0.5\nW2 = rng.normal(size=(16, 1)) * 0.5\n"


def _never_reset(tmp_path):
    source = PROGRAM.replace(ZEROED_IN_THE_STEP, "").replace(ZEROED_BEFORE, ZEROED_BEFORE + "dW1 = np.zeros_like(W1)\ndW2 = np.zeros_like(W2)\n")
    return write(tmp_path, "accumulate.py", source)


def test_gradients_zeroed_at_the_start_of_each_step_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "accumulate.py", PROGRAM))) == []


def test_gradients_zeroed_only_before_the_loop_are_named_at_the_line_that_adds(tmp_path):
    path = _never_reset(tmp_path)
    found = {f["param"]: f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"}
    assert set(found) == {"W1", "W2"}
    assert {f["pattern"] for f in found.values()} == {"accumulated-across-steps"}
    assert found["W1"]["line"] == line_of(path, "dW1 += xb.T @ dz1")
    assert found["W2"]["line"] == line_of(path, "dW2 += a1.T @ dz2")
    message = found["W1"]["message"]
    assert f"set to zero only once, before the loop, at line {line_of(path, 'dW1 = np.zeros_like(W1)')}" in message
    assert "`dW1 = np.zeros_like(W1)` at the start of each step" in message


def test_a_gradient_that_is_wrong_anyway_is_not_called_accumulated(tmp_path):
    path = planted(tmp_path, "accumulate.py", PROGRAM, "        dW1 += xb.T @ dz1\n", "        dW1 += xb.T @ dz1 * 2\n")
    (found,) = [f for f in errors(check(path)) if f["name"] == "step-gradient-mismatch"]
    assert found["pattern"] == "factor-of-two" and found["param"] == "W1"


# Per-sample gradients summed into a dictionary of buffers under the loop's key (`total[name] += g[name]`),
# the buffers made once before the loop; the update reads their mean over the batch.
KEYED = '''\
import numpy as np

gen = np.random.default_rng(6)
X = gen.normal(size=(120, 2))
y = (X[:, 0] * X[:, 1] > 0).astype(float)
net = {"U": gen.normal(size=(2, 8)) * 0.8, "c": np.zeros(8), "v": gen.normal(size=8) * 0.5}
total = {name: np.zeros_like(value) for name, value in net.items()}


def sample_grads(net, x, t):
    a = np.tanh(x @ net["U"] + net["c"])
    q = 1 / (1 + np.exp(-(a @ net["v"])))
    e = q - t
    da = e * net["v"] * (1 - a ** 2)
    return {"U": np.outer(x, da), "c": da, "v": e * a}


def cost(net, X, y):
    q = 1 / (1 + np.exp(-(np.tanh(X @ net["U"] + net["c"]) @ net["v"])))
    return -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))


for epoch in range(30):
    for lo in range(0, 120, 12):
        for name in total:
            total[name][...] = 0.0
        for j in range(lo, lo + 12):
            g = sample_grads(net, X[j], y[j])
            for name in total:
                total[name] += g[name]
        for name in net:
            net[name] -= 0.4 * total[name] / 12
    print(epoch, cost(net, X, y))
'''


def test_keyed_buffers_summed_under_the_loop_s_key_and_never_reset_are_named_as_such(tmp_path):
    clean = check(write(tmp_path, "keyed.py", KEYED))
    assert errors(clean) == []
    path = planted(tmp_path, "keyed_bug.py", KEYED, "        for name in total:\n            total[name][...] = 0.0\n", "")
    (finding,) = errors(check(path))
    assert finding["name"] == "step-gradient-mismatch"
    assert "without resetting" in finding["message"], finding["message"]
    assert f"line {line_of(path, 'total = {name')}" in finding["message"]
