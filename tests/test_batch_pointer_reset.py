"""A mini-batch pointer set back to a number at the top of every pass of the batch loop (`start = 0` before
the cut, `start += bs` after the step): the pointer's move never reaches the next pass, so every step trains
on the same rows. `step-batch-never-moves` (BPD642) names the reset, with its move before the loop as the
fix, in a script and in a trainer class; the same programs with the reset before the loop are clean."""

from __future__ import annotations

from tests.userfiles import check, line_of, write

SCRIPT = '''\
import numpy as np

rs = np.random.RandomState(2)
feats = rs.randn(320, 3)
target = np.tanh(feats @ np.array([[1.0], [-0.5], [0.8]]))
W1 = 0.3 * rs.randn(3, 8)
W2 = 0.3 * rs.randn(8, 1)
mb = 32


def step(Xb, yb, W1, W2):
    h = np.maximum(0, Xb @ W1)
    out = h @ W2
    d = 2 * (out - yb) / len(yb)
    gW2 = h.T @ d
    gW1 = Xb.T @ ((d @ W2.T) * (h > 0))
    return np.mean((out - yb) ** 2), gW1, gW2


for epoch in range(30):
    start = 0
    for k in range(len(feats) // mb):
        Xb = feats[start:start + mb]
        yb = target[start:start + mb]
        loss, gW1, gW2 = step(Xb, yb, W1, W2)
        W1 -= 0.1 * gW1
        W2 -= 0.1 * gW2
        start += mb
    print(epoch, loss)
'''

CLASSY = '''\
import numpy as np


class Softmax:
    def __init__(self, d, k, seed=0):
        self.W = np.random.default_rng(seed).normal(0, 0.1, (d, k))

    def grad(self, X, y):
        z = X @ self.W
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(len(y)), y]))
        p[np.arange(len(y)), y] -= 1
        return loss, X.T @ p / len(y)


class Loader:
    def __init__(self, X, y, size):
        self.X, self.y, self.size, self.cursor = X, y, size, 0

    def train(self, model, steps, lr=0.5):
        self.cursor = 0
        for it in range(steps):
            xb = self.X[self.cursor:self.cursor + self.size]
            yb = self.y[self.cursor:self.cursor + self.size]
            loss, g = model.grad(xb, yb)
            model.W -= lr * g
            self.cursor = (self.cursor + self.size) % len(self.X)
        return loss


if __name__ == "__main__":
    g = np.random.default_rng(6)
    centres = np.array([[2.0, 0.0], [-1.0, 2.0], [-1.0, -2.0]])
    y = g.integers(0, 3, 300)
    X = centres[y] + g.normal(size=(300, 2))
    print(Loader(X, y, 25).train(Softmax(2, 3), 200))
'''


def _loud(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] in ("error", "warning")]


def _moved_in(text: str, before: str, reset: str) -> str:
    """`reset` taken from its place before the loop and put as the first statement of the loop's body."""
    indent = before[: len(before) - len(before.lstrip())]
    assert f"{indent}{reset}\n{before}\n" in text
    return text.replace(f"{indent}{reset}\n{before}\n", f"{before}\n{indent}    {reset}\n", 1)


def test_a_pointer_reset_inside_the_batch_loop_of_a_script_is_named_at_the_reset(tmp_path):
    text = SCRIPT.replace("    start = 0\n    for k in range(len(feats) // mb):\n", "    for k in range(len(feats) // mb):\n        start = 0\n")
    assert text != SCRIPT
    path = write(tmp_path, "script.py", text)
    report = check(path, training=True)
    found = [f for f in _loud(report) if f["code"] == "BPD642"]
    assert len(found) == 1, report["findings"]
    assert found[0]["line"] == line_of(path, "        start = 0")
    assert found[0]["pattern"] == "batch-pointer-reset"
    assert "move `start = 0` before the loop" in found[0]["message"]
    assert f"`start += mb` (line {line_of(path, 'start += mb')})" in found[0]["message"]


def test_a_pointer_attribute_reset_inside_the_loop_of_a_method_is_named_at_the_reset(tmp_path):
    path = write(tmp_path, "loader.py", _moved_in(CLASSY, "        for it in range(steps):", "self.cursor = 0"))
    report = check(path, training=True)
    found = [f for f in _loud(report) if f["code"] == "BPD642"]
    assert len(found) == 1, report["findings"]
    assert found[0]["line"] == line_of(path, "            self.cursor = 0")
    assert "move `self.cursor = 0` before the loop" in found[0]["message"]


def test_pointers_reset_before_their_loops_are_clean(tmp_path):
    assert _loud(check(write(tmp_path, "script.py", SCRIPT), training=True)) == []
    assert _loud(check(write(tmp_path, "loader.py", CLASSY), training=True)) == []


def test_a_wrap_around_reset_under_a_test_in_the_loop_is_clean(tmp_path):
    wrapped = CLASSY.replace(
        "            self.cursor = (self.cursor + self.size) % len(self.X)\n",
        "            self.cursor += self.size\n",
    ).replace(
        "            xb = self.X[",
        "            if self.cursor + self.size > len(self.X):\n                self.cursor = 0\n            xb = self.X[",
    )
    assert wrapped.count("self.cursor = 0") == 2
    assert _loud(check(write(tmp_path, "wrapped.py", wrapped), training=True)) == []


# an epoch loop that sets its pointer to 0 before each pass of its batch loop (right), with a cross-entropy whose
# mean over an empty batch is NaN: the replay runs the batch loop's body past its own `range`, where the pointer
# has run off the data; the program itself never gets there
EPOCH_POINTER = '''
import numpy as np

rng = np.random.default_rng(11)
pts = rng.uniform(-1, 1, size=(300, 2))
lab = ((pts[:, 0] ** 2 + pts[:, 1] ** 2) < 0.5).astype(float).reshape(-1, 1)

net = {"A": rng.normal(0, 0.8, (2, 10)), "a": np.zeros((1, 10)), "B": rng.normal(0, 0.8, (10, 1)), "b": np.zeros((1, 1))}


def run_forward(net, xs):
    h = np.tanh(xs @ net["A"] + net["a"])
    q = 1 / (1 + np.exp(-(h @ net["B"] + net["b"])))
    return q, (xs, h, q)


def xent(q, ys):
    return -np.mean(ys * np.log(q + 1e-10) + (1 - ys) * np.log(1 - q + 1e-10))


def run_backward(net, saved, ys):
    xs, h, q = saved
    dz = (q - ys) / xs.shape[0]
    dh = dz @ net["B"].T * (1 - h ** 2)
    return {"B": h.T @ dz, "b": dz.sum(0, keepdims=True), "A": xs.T @ dh, "a": dh.sum(0, keepdims=True)}


size = 30
per_epoch = len(pts) // size
for epoch in range(150):
    offset = 0
    for j in range(per_epoch):
        xb = pts[offset:offset + size]
        yb = lab[offset:offset + size]
        q, saved = run_forward(net, xb)
        g = run_backward(net, saved, yb)
        for name in net:
            net[name] -= 0.8 * g[name]
        offset += size
    if epoch % 30 == 0:
        print(epoch, xent(run_forward(net, pts)[0], lab))
'''


def test_a_pointer_reset_before_each_pass_of_the_batch_loop_is_clean_with_no_nan_past_the_loops_end(tmp_path):
    assert _loud(check(write(tmp_path, "epochs.py", EPOCH_POINTER), training=True)) == []


def test_the_same_program_with_the_pointer_reset_inside_the_batch_loop_is_named_at_the_reset(tmp_path):
    text = EPOCH_POINTER.replace("    offset = 0\n    for j in range(per_epoch):\n", "    for j in range(per_epoch):\n        offset = 0\n")
    assert text != EPOCH_POINTER
    path = write(tmp_path, "epochs.py", text)
    found = [f for f in _loud(check(path, training=True)) if f["code"] == "BPD642"]
    assert len(found) == 1 and found[0]["line"] == line_of(path, "        offset = 0"), found
