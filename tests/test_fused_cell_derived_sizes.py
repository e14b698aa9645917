"""A recurrent cell whose one method runs the forward pass, backpropagation through time and the
update (`train_on(seq, nxt, step_size)`), written in a file that never calls it, and whose
constructor derives a size from two others: `self.rows = n_hidden // n_group` state rows of
`n_group` columns, the state reshaped to `(rows, n_group)` every time step. Sizes guessed from the
argument names alone (`n_group=6` for a state of 8) make the reshape fail, so the cell is driven a
second time with every guessed size set to the hidden width.

- The correct cell is replayed and clean;
- a bias the update moves but the forward pass never adds is named at the update, as a weight the
  training step never reads (`np.zeros_like(self.b_mix)` only reads its shape), not blamed on an
  adjoint of the recurrence;
- `scipy.linalg.inv` has NumPy's namesake as a stand-in where SciPy is missing.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

CELL = '''\
import numpy as np
import scipy.linalg as sla


class GroupedCell:
    """A character-level cell: one-hot in, softmax over the next character out."""

    def __init__(self, n_hidden, n_chars, n_group):
        self.n_chars = n_chars
        self.n_group = n_group
        self.rows = n_hidden // n_group          # the state is `rows` x `n_group`
        rng = np.random.default_rng(3)
        self.W_in = rng.normal(0, 0.3, (n_hidden, n_chars))
        self.W_mix = rng.normal(0, 0.3, (n_group, n_group))
        self.b_mix = np.zeros((1, n_group))
        self.W_out = rng.normal(0, 0.3, (n_chars, n_hidden))
        self.b_out = np.zeros((n_chars, 1))
        decay = np.eye(self.rows) * 0.5
        self.carry = sla.inv(np.eye(self.rows) + decay)  # a fixed mixing of the rows

    def train_on(self, seq, nxt, step_size):
        xs, hs, ps = {}, {}, {}
        hs[-1] = np.zeros((self.rows, self.n_group))
        loss = 0.0
        for t in range(len(seq)):
            xs[t] = np.zeros((self.n_chars, 1))
            xs[t][seq[t]] = 1.0
            drive = (self.W_in @ xs[t]).reshape(self.rows, self.n_group)
            hs[t] = np.tanh(self.carry @ hs[t - 1] @ self.W_mix + drive + self.b_mix)
            scores = self.W_out @ hs[t].reshape(-1, 1) + self.b_out
            e = np.exp(scores - scores.max())
            ps[t] = e / e.sum()
            loss += -np.log(ps[t][nxt[t], 0])
        dW_in, dW_mix = np.zeros_like(self.W_in), np.zeros_like(self.W_mix)
        db_mix, dW_out, db_out = np.zeros_like(self.b_mix), np.zeros_like(self.W_out), np.zeros_like(self.b_out)
        dnext = np.zeros((self.rows, self.n_group))
        for t in reversed(range(len(seq))):
            dscores = ps[t].copy()
            dscores[nxt[t]] -= 1.0
            dW_out += dscores @ hs[t].reshape(1, -1)
            db_out += dscores
            dh = (self.W_out.T @ dscores).reshape(self.rows, self.n_group) + dnext
            dpre = dh * (1.0 - hs[t] ** 2)
            db_mix += dpre.sum(axis=0, keepdims=True)
            dW_mix += (self.carry @ hs[t - 1]).T @ dpre
            dW_in += dpre.reshape(-1, 1) @ xs[t].T
            dnext = self.carry.T @ dpre @ self.W_mix.T
        for p, g in zip([self.W_in, self.W_mix, self.b_mix, self.W_out, self.b_out], [dW_in, dW_mix, db_mix, dW_out, db_out]):
            p -= step_size * g
        return loss
'''

FORWARD = "            hs[t] = np.tanh(self.carry @ hs[t - 1] @ self.W_mix + drive + self.b_mix)"
WITHOUT_BIAS = "            hs[t] = np.tanh(self.carry @ hs[t - 1] @ self.W_mix + drive)"


def test_the_correct_cell_is_driven_at_sizes_that_fit_and_is_clean(tmp_path):
    path = planted(tmp_path, "grouped_cell.py", CELL, FORWARD, FORWARD)
    report = check(path)
    assert errors(report) == []
    assert replayed(report)["parameters"]
    verdicts = step_verdicts(report)
    assert set(verdicts) == {"self.W_in", "self.W_mix", "self.b_mix", "self.W_out", "self.b_out"}
    assert set(verdicts.values()) == {"ok"}, verdicts


def test_a_bias_the_forward_pass_never_adds_is_named_at_its_update(tmp_path):
    path = planted(tmp_path, "grouped_cell.py", CELL, FORWARD, WITHOUT_BIAS)
    report = check(path)
    (finding,) = errors(report)
    assert finding["code"] == "BPD108"
    assert finding["param"] == "self.b_mix"
    assert "never reads `self.b_mix`" in finding["message"]
    assert finding["line"] == line_of(path, "db_mix += dpre.sum")
    assert step_verdicts(report)["self.W_mix"] == "ok"


def test_scipy_linalg_inv_has_numpys_namesake_as_a_stand_in():
    if importlib.util.find_spec("scipy") is not None:
        pytest.skip("SciPy is installed here: its own inv runs")
    from backprop_doctor.loading.datasets import standin

    inv = standin("scipy.linalg.inv")
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    assert np.array_equal(inv(a), np.linalg.inv(a))
    assert standin("scipy.linalg.cholesky") is None  # SciPy's default is the upper factor, NumPy's the lower
