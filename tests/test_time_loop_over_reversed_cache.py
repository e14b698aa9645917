"""A recurrent class whose forward loop appends one tuple per time step to a list (`self.trace.append((x, h, f,
cand))`) and whose backward walks that list itself, reversed (`for x, h_prev, f, cand in reversed(self.trace)`),
with no time variable of its own: the i-th pass of the backward loop is time step T - 1 - i. The replay walks the
adjoints of that loop (`df` against the forward loop's `f` at the same step), so a wrong gate gradient is named
at its own line inside the class's backward, not at the training loop's call of `backward`."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts

PROGRAM = '''\
import numpy as np


def squash(v):
    return 1.0 / (1.0 + np.exp(-v))


class MinimalGated:
    """One forget gate f: cand = tanh(x Wc + (f h) Uc + bc), h' = (1 - f) h + f cand."""

    def __init__(self, n_in, n_hid, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {
            "Wf": rng.normal(0.0, 0.4, (n_in, n_hid)),
            "Uf": rng.normal(0.0, 0.4, (n_hid, n_hid)),
            "bf": rng.normal(0.0, 0.3, n_hid),
            "Wc": rng.normal(0.0, 0.4, (n_in, n_hid)),
            "Uc": rng.normal(0.0, 0.4, (n_hid, n_hid)),
            "bc": rng.normal(0.0, 0.3, n_hid),
            "Wo": rng.normal(0.0, 0.4, (n_hid, 1)),
            "bo": np.zeros(1),
        }
        self.n_hid = n_hid

    def run(self, seq):
        P = self.params
        h = np.zeros((seq.shape[0], self.n_hid))
        self.trace = []
        for step in range(seq.shape[1]):
            x = seq[:, step, :]
            f = squash(x @ P["Wf"] + h @ P["Uf"] + P["bf"])
            cand = np.tanh(x @ P["Wc"] + (f * h) @ P["Uc"] + P["bc"])
            self.trace.append((x, h, f, cand))
            h = (1 - f) * h + f * cand
        self.final = h
        return h @ P["Wo"] + P["bo"]

    def backprop(self, pred, target):
        P = self.params
        self.grads = {name: np.zeros_like(value) for name, value in P.items()}
        dpred = 2.0 * (pred - target) / pred.shape[0]
        self.grads["Wo"] = self.final.T @ dpred
        self.grads["bo"] = dpred.sum(axis=0)
        dh = dpred @ P["Wo"].T
        for x, h_prev, f, cand in reversed(self.trace):
            dcand = dh * f
            dc_in = dcand * (1 - cand ** 2)
            self.grads["Wc"] += x.T @ dc_in
            self.grads["Uc"] += (f * h_prev).T @ dc_in
            self.grads["bc"] += dc_in.sum(axis=0)
            dfh = dc_in @ P["Uc"].T
            df = dh * (cand - h_prev) + dfh * h_prev
            df_in = df * f * (1 - f)
            self.grads["Wf"] += x.T @ df_in
            self.grads["Uf"] += h_prev.T @ df_in
            self.grads["bf"] += df_in.sum(axis=0)
            dh = dh * (1 - f) + dfh * f + df_in @ P["Uf"].T


rng = np.random.default_rng(7)
seqs = rng.normal(size=(64, 6, 2))
targets = seqs[:, :, :1].sum(axis=1) * 0.5
net = MinimalGated(2, 8)
rate = 0.1
for epoch in range(150):
    pred = net.run(seqs)
    mse = np.mean((pred - targets) ** 2)
    net.backprop(pred, targets)
    for name in net.params:
        net.params[name] -= rate * net.grads[name]
    if epoch % 50 == 0:
        print(epoch, round(float(mse), 5))
'''

RIGHT = "            df = dh * (cand - h_prev) + dfh * h_prev\n"


def test_a_right_gated_cell_walking_its_cache_reversed_gets_no_error(tmp_path):
    report = check(planted(tmp_path, "gated.py", PROGRAM, RIGHT, RIGHT))
    assert errors(report) == []
    assert step_verdicts(report) and set(step_verdicts(report).values()) == {"ok"}


def test_a_gate_gradient_of_the_wrong_sign_is_named_at_its_line_in_the_reversed_loop(tmp_path):
    path = planted(tmp_path, "gated.py", PROGRAM, RIGHT, "            df = dh * (h_prev - cand) + dfh * h_prev\n")
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"], root["param"]) == ("BPD108", line_of(path, "df = dh * (h_prev - cand) + dfh * h_prev"), "df")
    assert root["message"].startswith("at time step 5 (the last one, where the backward pass starts), `df`"), root["message"]


def test_a_candidate_gradient_through_the_wrong_gate_side_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "gated.py", PROGRAM, "            dcand = dh * f\n", "            dcand = dh * (1 - f)\n")
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"], root["param"]) == ("BPD108", line_of(path, "dcand = dh * (1 - f)"), "dcand")
