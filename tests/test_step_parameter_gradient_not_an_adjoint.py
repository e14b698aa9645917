"""`grad_w_out` (or `dw_out`) beside a weight `self.w_out` (or `params["w_out"]`) is that weight's
gradient, not the gradient of the forward value `z_out` that shares a word with it: paired with `z_out`
(the shapes agree when the batch is as large as the hidden layer), it was measured as `z_out`'s
gradient, always wrong, and named as the first wrong one whatever the step got wrong elsewhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from userfiles import check, errors, line_of, planted

from backprop_doctor.loading.source import read_source
from backprop_doctor.replay import replay_file

CLASS_STYLE = """
import numpy as np


class TinyNet:
    def __init__(self, n_in, n_hidden, n_out, rate=0.01, batch=32, seed=1):
        rng = np.random.RandomState(seed)
        self.w_hid = rng.normal(0.0, 0.3, (n_in, n_hidden))
        self.b_hid = np.zeros(n_hidden)
        self.w_out = rng.normal(0.0, 0.3, (n_hidden, n_out))
        self.b_out = np.zeros(n_out)
        self.rate, self.batch, self.decay = rate, batch, 0.0

    def _squash(self, z):
        return 1.0 / (1.0 + np.exp(-z))

    def _forward(self, X):
        z_hid = X @ self.w_hid + self.b_hid
        a_hid = self._squash(z_hid)
        z_out = a_hid @ self.w_out + self.b_out
        return z_hid, a_hid, z_out, self._squash(z_out)

    def fit(self, X, Y, epochs=20):
        for epoch in range(epochs):
            for start in range(0, len(X) - self.batch + 1, self.batch):
                Xb, Yb = X[start:start + self.batch], Y[start:start + self.batch]
                z_hid, a_hid, z_out, a_out = self._forward(Xb)
                err_out = a_out - Yb
                err_hid = (err_out @ self.w_out.T) * a_hid * (1.0 - a_hid)
                grad_w_hid = Xb.T @ err_hid
                grad_b_hid = err_hid.sum(axis=0)
                grad_w_out = a_hid.T @ err_out
                grad_b_out = err_out.sum(axis=0)
                step_w_hid = grad_w_hid + self.decay * self.w_hid
                step_w_out = grad_w_out + self.decay * self.w_out
                self.w_hid -= self.rate * step_w_hid
                self.b_hid -= self.rate * grad_b_hid
                self.w_out -= self.rate * step_w_out
                self.b_out -= self.rate * grad_b_out
        return self


rng = np.random.RandomState(0)
X = rng.normal(size=(128, 6))
Y = np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)]
TinyNet(6, 32, 3).fit(X, Y)
"""

BIAS = "                grad_b_hid = err_hid.sum(axis=0)"
BIAS_WRONG = "                grad_b_hid = err_hid.sum(axis=1)"  # the batch (32) is as large as the hidden layer

DICT_STYLE = """
import numpy as np

rng = np.random.default_rng(2)
X = rng.normal(size=(16, 3))
T = (X @ rng.normal(size=(3, 2)) > 0).astype(float)
params = {"w_hid": rng.normal(scale=0.5, size=(3, 16)), "b_hid": np.zeros(16), "w_out": rng.normal(scale=0.5, size=(16, 2))}
for step in range(300):
    z_hid = X @ params["w_hid"] + params["b_hid"]
    a_hid = np.tanh(z_hid)
    z_out = a_hid @ params["w_out"]
    cost = 0.5 * np.sum((z_out - T) ** 2) / len(X)
    e_out = (z_out - T) / len(X)
    e_hid = (e_out @ params["w_out"].T) * (1 - a_hid ** 2)
    dw_hid = X.T @ e_hid
    db_hid = e_hid.sum(axis=0)
    dw_out = a_hid.T @ e_out
    params["w_hid"] -= 0.3 * dw_hid
    params["b_hid"] -= 0.3 * db_hid
    params["w_out"] -= 0.3 * dw_out
"""



@pytest.fixture(autouse=True)
def numpy_state_kept():
    state = np.random.get_state()  # the replayed scripts seed NumPy's global generator
    yield
    np.random.set_state(state)


def _pairs(tmp_path: Path, name: str, text: str) -> dict[str, str]:
    """{adjoint: the forward value it is paired with} for the replayed step of `text`."""
    path = planted(tmp_path, name, text, "import numpy as np", "import numpy as np")
    source, _ = read_source(str(path))
    (result,) = replay_file(source, 10.0, seed=0, curve=False, measure=True)
    return {a.name: a.forward for a in result.step.adjoints}


def test_the_correct_programs_are_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "tiny.py", CLASS_STYLE, BIAS, BIAS))) == []
    assert errors(check(planted(tmp_path, "flat.py", DICT_STYLE, "import numpy as np", "import numpy as np"))) == []


def test_a_wrong_bias_gradient_is_named_not_the_weights_gradient(tmp_path: Path) -> None:
    path = planted(tmp_path, "tiny.py", CLASS_STYLE, BIAS, BIAS_WRONG)
    found = [f for f in errors(check(path)) if f["code"] == "BPD108"]
    assert found and found[0]["line"] == line_of(path, BIAS_WRONG.strip()), found
    assert "z_out" not in found[0]["message"]


def test_a_weights_gradient_is_not_paired_with_a_forward_value_sharing_a_word(tmp_path: Path) -> None:
    pairs = _pairs(tmp_path, "tiny.py", CLASS_STYLE)
    assert pairs.get("grad_w_out") is None and pairs.get("grad_b_out") is None and pairs.get("grad_w_hid") is None, pairs
    pairs = _pairs(tmp_path, "flat.py", DICT_STYLE)
    assert pairs.get("dw_out") is None and pairs.get("dw_hid") is None, pairs
