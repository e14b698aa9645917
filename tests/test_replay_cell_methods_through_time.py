"""A recurrent cell written as a class whose `forward(x, h)` returns the new state and a cache and whose
`backward(dh_next, cache, ...)` returns the gradient of the state it was handed, run by loops over time:
`h, cache = cell.forward(xs[t], h)` forward, `dh = cell.backward(dh, caches[t], grads)` backward, `dh` first
bound as the gradient of the last state (`dh = dout @ V.T`). The walk used to judge that first `dh` by the
value the backward loop left in it (the gradient of the first state) and blamed its line; it now reads each
adjoint at its own statement, pairs the cell's backward with its forward one time step at a time (the locals
of `forward`, and its state argument), and names the statement of the cell's backward that is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted, write

# a gated cell (an update gate mixing the old state and a candidate), gradients accumulated in a dict
GATED = """\
    import numpy as np


    def sig(v):
        return 1.0 / (1.0 + np.exp(-v))


    class MixCell:
        def __init__(self, n_in, n_h, rng):
            self.w = {
                "Wg": rng.normal(scale=0.4, size=(n_in, n_h)), "Ug": rng.normal(scale=0.4, size=(n_h, n_h)),
                "Wc": rng.normal(scale=0.4, size=(n_in, n_h)), "Uc": rng.normal(scale=0.4, size=(n_h, n_h)),
            }

        def forward(self, x, h):
            w = self.w
            g = sig(x @ w["Wg"] + h @ w["Ug"])
            c = np.tanh(x @ w["Wc"] + h @ w["Uc"])
            h_next = g * h + (1 - g) * c
            return h_next, (x, h, g, c)

        def backward(self, dh_next, cache, acc):
            w = self.w
            x, h, g, c = cache
            dg = dh_next * (h - c)
            dc = dh_next * (1 - g)
            dpre_c = dc * (1 - c ** 2)
            dpre_g = dg * g * (1 - g)
            acc["Wc"] += x.T @ dpre_c
            acc["Uc"] += h.T @ dpre_c
            acc["Wg"] += x.T @ dpre_g
            acc["Ug"] += h.T @ dpre_g
            dh = dh_next * g + dpre_c @ w["Uc"].T + dpre_g @ w["Ug"].T
            return dh


    rng = np.random.default_rng(5)
    steps, batch = 4, 6
    xs = rng.normal(size=(steps, batch, 3))
    target = np.tanh(xs.sum(axis=0)[:, :1])
    cell = MixCell(3, 5, rng)
    V = rng.normal(scale=0.4, size=(5, 1))

    for epoch in range(100):
        h = np.zeros((batch, 5))
        caches = []
        for t in range(steps):
            h, cache = cell.forward(xs[t], h)
            caches.append(cache)
        out = h @ V
        loss = 0.5 * np.mean((out - target) ** 2)
        dout = (out - target) / batch
        dV = h.T @ dout
        dh = dout @ V.T
        acc = {k: np.zeros_like(v) for k, v in cell.w.items()}
        for t in reversed(range(steps)):
            dh = cell.backward(dh, caches[t], acc)
        for k in cell.w:
            cell.w[k] -= 0.2 * acc[k]
        V -= 0.2 * dV
        if epoch % 20 == 0:
            print(epoch, loss)
"""

# a plain tanh cell whose backward returns the state's gradient beside its own weights' gradients, in a function
ELMAN = """\
    import numpy as np


    class TanhCell:
        def __init__(self, n_in, n_h, seed=0):
            r = np.random.RandomState(seed)
            self.Wx = r.randn(n_in, n_h) * 0.3
            self.Wh = r.randn(n_h, n_h) * 0.3
            self.b = np.zeros(n_h)

        def step_forward(self, x, h_prev):
            a = x @ self.Wx + h_prev @ self.Wh + self.b
            h = np.tanh(a)
            return h, (x, h_prev, h)

        def step_backward(self, dh, memo):
            x, h_prev, h = memo
            da = dh * (1 - h ** 2)
            dWx = x.T @ da
            dWh = h_prev.T @ da
            db = da.sum(axis=0)
            dh_prev = da @ self.Wh.T
            return dh_prev, dWx, dWh, db


    def train(epochs=80, lr=0.1):
        r = np.random.RandomState(1)
        seq = r.randn(6, 10, 2)
        goal = seq[:, :, 0].mean(axis=0, keepdims=True).T
        cell = TanhCell(2, 4)
        Wy = r.randn(4, 1) * 0.3
        for epoch in range(epochs):
            h = np.zeros((10, 4))
            memos = []
            for t in range(len(seq)):
                h, memo = cell.step_forward(seq[t], h)
                memos.append(memo)
            y = h @ Wy
            err = y - goal
            cost = np.mean(err ** 2)
            dy = 2 * err / len(err)
            dWy = h.T @ dy
            dh = dy @ Wy.T
            sums = [np.zeros_like(cell.Wx), np.zeros_like(cell.Wh), np.zeros_like(cell.b)]
            for t in reversed(range(len(seq))):
                dh, gx, gh, gb = cell.step_backward(dh, memos[t])
                sums[0] += gx
                sums[1] += gh
                sums[2] += gb
            cell.Wx -= lr * sums[0]
            cell.Wh -= lr * sums[1]
            cell.b -= lr * sums[2]
            Wy -= lr * dWy
        return cost


    if __name__ == "__main__":
        print(train())
"""

CASES = [
    ("mix_cell.py", GATED, "dg = dh_next * (h - c)", "dg = dh_next * (c - h)"),
    ("mix_cell.py", GATED, "dc = dh_next * (1 - g)", "dc = dh_next * g"),
    ("mix_cell.py", GATED, "dh = dh_next * g + dpre_c", "dh = dh_next * (1 - g) + dpre_c"),
    ("elman_cell.py", ELMAN, "da = dh * (1 - h ** 2)", "da = dh * (1 - h)"),
    ("elman_cell.py", ELMAN, "dh_prev = da @ self.Wh.T", "dh_prev = da @ self.Wh"),
]


@pytest.mark.parametrize(("name", "text"), [("mix_cell.py", GATED), ("elman_cell.py", ELMAN)])
def test_the_correct_cells_are_clean(tmp_path: Path, name: str, text: str) -> None:
    assert errors(check(write(tmp_path, name, text), training=True)) == []


@pytest.mark.parametrize(("name", "text", "correct", "wrong"), CASES)
def test_a_wrong_statement_of_the_cells_backward_is_named(tmp_path: Path, name: str, text: str, correct: str, wrong: str) -> None:
    path = planted(tmp_path, name, text, correct, wrong)
    report = check(path, training=True)
    root = report["findings"][report["root_cause"]]
    assert root["name"] == "step-gradient-mismatch"
    assert root["line"] == line_of(path, wrong)
    # the gradient of the last state, right, is not what is blamed
    assert "`dh` (line" not in root["message"].split(",")[0] or "time step" in root["message"]
