"""A recurrent cell that takes one time step per call: forward(x_t) pushes the step (a counter it
increments, lists it appends to) and backward(dh_t) steps back one time step per call, adding that
step's share into the gradients and carrying the hidden state's gradient to the next call. Two
backward calls are two time steps by design: the cell is checked as the program calls it (forward
T times, then backward T times), not reported as a backward that forgets to assign its gradients;
a wrong gradient in it is still found. A layer over a whole sequence that holds such cells is
checked with its cells started again at every call."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

# style 1: attributes, eager weights, a program that trains it (the observed run)
ATTRIBUTES = '''\
import numpy as np


class StepTanh:
    def __init__(self, n_in, n_hid, seed=0):
        rng = np.random.default_rng(seed)
        self.Wx = rng.normal(0, 0.3, (n_in, n_hid))
        self.Wh = rng.normal(0, 0.3, (n_hid, n_hid))
        self.b = np.zeros(n_hid)
        self.dWx = np.zeros_like(self.Wx)
        self.dWh = np.zeros_like(self.Wh)
        self.db = np.zeros_like(self.b)
        self.xs, self.hs = [], []
        self.t = 0
        self.dh_next = None

    def forward(self, x):
        if not self.hs:
            self.hs.append(np.zeros((x.shape[0], self.Wh.shape[0])))
        h = np.tanh(x @ self.Wx + self.hs[-1] @ self.Wh + self.b)
        self.xs.append(x)
        self.hs.append(h)
        self.t += 1
        return h

    def backward(self, dh):
        self.t -= 1
        t = self.t
        if self.dh_next is not None:
            dh = dh + self.dh_next
        dz = dh * (1 - self.hs[t + 1] ** 2)
        self.dWx += self.xs[t].T @ dz
        self.dWh += self.hs[t].T @ dz
        self.db += dz.sum(axis=0)
        self.dh_next = dz @ self.Wh.T
        return dz @ self.Wx.T

    def reset(self):
        self.xs, self.hs = [], []
        self.t = 0
        self.dh_next = None
        for g in (self.dWx, self.dWh, self.db):
            g[...] = 0


if __name__ == "__main__":
    rng = np.random.default_rng(1)
    cell = StepTanh(3, 4)
    X = rng.normal(size=(5, 2, 3))
    for epoch in range(3):
        cell.reset()
        outs = [cell.forward(X[t]) for t in range(5)]
        loss = sum((h ** 2).sum() for h in outs) / 2
        for t in reversed(range(5)):
            cell.backward(outs[t])
        for p, g in ((cell.Wx, cell.dWx), (cell.Wh, cell.dWh), (cell.b, cell.db)):
            p -= 0.01 * g
        print(epoch, loss)
'''

# style 2: a library file, state in dictionaries, weights made at the first call, no program
DICTIONARIES = '''\
import numpy as np


class LeakyStep:
    def __init__(self, n_out, leak=0.5):
        self.n_out = n_out
        self.leak = leak
        self.params = None
        self.grads = None
        self.mem = {"step": 0, "x": [], "h": [], "carry": None}

    def _make(self, n_in):
        rng = np.random.default_rng(3)
        self.params = {
            "U": rng.normal(0, 0.4, (n_in, self.n_out)),
            "V": rng.normal(0, 0.4, (self.n_out, self.n_out)),
            "c": np.zeros((1, self.n_out)),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x_t):
        if self.params is None:
            self._make(x_t.shape[1])
        hs = self.mem["h"]
        prev = hs[-1] if hs else np.zeros((x_t.shape[0], self.n_out))
        cand = np.tanh(x_t @ self.params["U"] + prev @ self.params["V"] + self.params["c"])
        h = self.leak * prev + (1 - self.leak) * cand
        self.mem["x"].append(x_t)
        hs.append(h)
        self.mem["step"] += 1
        return h, cand

    def backward(self, grad_h):
        self.mem["step"] -= 1
        t = self.mem["step"]
        g = grad_h if self.mem["carry"] is None else grad_h + self.mem["carry"]
        hs = self.mem["h"]
        prev = hs[t - 1] if t > 0 else np.zeros_like(hs[t])
        cand = (hs[t] - self.leak * prev) / (1 - self.leak)
        dpre = g * (1 - self.leak) * (1 - cand ** 2)
        self.grads["U"] += self.mem["x"][t].T @ dpre
        self.grads["V"] += prev.T @ dpre
        self.grads["c"] += dpre.sum(axis=0, keepdims=True)
        self.mem["carry"] = g * self.leak + dpre @ self.params["V"].T
        return dpre @ self.params["U"].T


class SequenceOfSteps:
    """A whole sequence (n, d, T): its cell made at the first call, run forward over the steps, then back."""

    def __init__(self, n_out):
        self.n_out = n_out
        self.cell = None

    def forward(self, X):
        if self.cell is None:
            self.cell = LeakyStep(self.n_out)
        outs = [self.cell.forward(X[:, :, t])[0] for t in range(X.shape[2])]
        return np.stack(outs, axis=2)

    def backward(self, dY):
        dxs = []
        for t in reversed(range(dY.shape[2])):
            dxs.insert(0, self.cell.backward(dY[:, :, t]))
        return np.stack(dxs, axis=2)
'''


def _reentrancy_errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "nonreentrant-backward"]


def test_a_cell_stepped_one_call_at_a_time_in_a_program_is_checked_over_a_sequence(tmp_path):
    report = check(write(tmp_path, "cell.py", ATTRIBUTES))
    assert errors(report) == [] and _reentrancy_errors(report) == []
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "StepTanh"}
    assert verdicts == {"x": "ok", "Wx": "ok", "Wh": "ok", "b": "ok"}
    assert not [f for f in report["findings"] if f["name"] == "gradient-at-kink"]


def test_a_wrong_recurrent_gradient_of_a_stepped_cell_in_a_program_is_found(tmp_path):
    path = planted(tmp_path, "cell.py", ATTRIBUTES, "self.dWh += self.hs[t].T @ dz", "self.dWh += self.hs[t + 1].T @ dz")
    found = {(f["layer"], f["param"]) for f in errors(check(path)) if f["name"] == "gradient-mismatch"}
    assert ("StepTanh", "Wh") in found


def test_a_library_cell_with_its_state_in_dictionaries_is_checked_over_a_sequence(tmp_path):
    report = check(write(tmp_path, "cells.py", DICTIONARIES))
    assert errors(report) == [] and _reentrancy_errors(report) == []
    assert not [f for f in report["findings"] if f["name"] in ("bad-return", "gradient-at-kink")]
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "LeakyStep"}
    assert verdicts == {"x": "ok", "U": "ok", "V": "ok", "c": "ok"}
    assert {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "SequenceOfSteps"} == {"x": "ok"}


def test_a_carried_gradient_left_out_of_a_library_cell_is_found(tmp_path):
    path = planted(
        tmp_path, "cells.py", DICTIONARIES,
        'self.mem["carry"] = g * self.leak + dpre @ self.params["V"].T', 'self.mem["carry"] = dpre @ self.params["V"].T',
    )  # fmt: skip
    report = check(path)
    assert {f["layer"] for f in errors(report) if f["name"] == "gradient-mismatch"} >= {"LeakyStep", "SequenceOfSteps"}
    assert _reentrancy_errors(report) == []


def test_a_sequence_layer_that_steps_its_cell_back_in_the_wrong_order_is_found(tmp_path):
    path = planted(tmp_path, "cells.py", DICTIONARIES, "for t in reversed(range(dY.shape[2])):", "for t in range(dY.shape[2]):")
    found = {f["layer"] for f in errors(check(path)) if f["name"] == "gradient-mismatch"}
    assert "SequenceOfSteps" in found
