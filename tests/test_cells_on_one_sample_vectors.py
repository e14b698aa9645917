"""A recurrent cell written for one sample at a time: `forward(x, h)` on vectors, x (d,) and h (k,),
asserting or raising on a batch (CMU 11-785's `GRUCell`), `backward(delta)` returning `(dx, dh)` and
adding each parameter's gradient to an attribute on the cell (`self.dWz += np.outer(dz, x)`).

It is tried on vectors once no batch of rows runs through it; the gradients it adds over the time
steps of a sequence are the sum its caller wants, so a cell with a hidden-state input is not told to
assign them instead (its second call starts them from zero, as its caller does once per sequence).
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, planted

# a GRU with each gate's weights as attributes, gradients `d` + the weight's name, no reset method
GRU = 'import numpy as np\n\n\ndef sigmoid(a):\n    return 1.0 / (1.0 + np.exp(-a))\n\n\nclass GatedCell:\n    """One step of a GRU on one sample: x (d,), h (k,)."""\n\n    def __init__(self, in_dim, hidden_dim):\n        rng = np.random.default_rng(11)\n        d, k = in_dim, hidden_dim\n        self.d, self.k = d, k\n        for gate in "rzn":\n            setattr(self, "W" + gate, rng.normal(0, 0.4, (k, d)))\n            setattr(self, "U" + gate, rng.normal(0, 0.4, (k, k)))\n            setattr(self, "b" + gate, rng.normal(0, 0.1, k))\n        self.bu = rng.normal(0, 0.1, k)\n        for name in ("Wr", "Ur", "br", "Wz", "Uz", "bz", "Wn", "Un", "bn", "bu"):\n            setattr(self, "d" + name, np.zeros_like(getattr(self, name)))\n\n    def forward(self, x, h):\n        assert x.shape == (self.d,) and h.shape == (self.k,)\n        self.x, self.h = x, h\n        self.r = sigmoid(self.Wr @ x + self.Ur @ h + self.br)\n        self.z = sigmoid(self.Wz @ x + self.Uz @ h + self.bz)\n        self.u = self.Un @ h + self.bu\n        self.n = np.tanh(self.Wn @ x + self.bn + self.r * self.u)\n        return (1 - self.z) * self.n + self.z * h\n\n    def backward(self, delta):\n        x, h, r, z, n = self.x, self.h, self.r, self.z, self.n\n        dn = delta * (1 - z) * (1 - n ** 2)\n        dz = delta * (h - n) * z * (1 - z)\n        dr = dn * self.u * r * (1 - r)\n        self.dWn += np.outer(dn, x)\n        self.dbn += dn\n        self.dUn += np.outer(dn * r, h)\n        self.dbu += dn * r\n        self.dWz += np.outer(dz, x)\n        self.dUz += np.outer(dz, h)\n        self.dbz += dz\n        self.dWr += np.outer(dr, x)\n        self.dUr += np.outer(dr, h)\n        self.dbr += dr\n        dx = self.Wn.T @ dn + self.Wz.T @ dz + self.Wr.T @ dr\n        dh = delta * z + self.Un.T @ (dn * r) + self.Uz.T @ dz + self.Ur.T @ dr\n        return dx, dh\n'

# an Elman step raising on a batch, gradients reset by `zero_grad`
ONE_SAMPLE = 'import numpy as np\n\n\nclass OneSampleRNN(object):\n    def __init__(self, input_dim, hidden_dim):\n        self.input_dim = input_dim\n        self.hidden_dim = hidden_dim\n        self.W_in = np.random.randn(hidden_dim, input_dim) * 0.3\n        self.W_rec = np.random.randn(hidden_dim, hidden_dim) * 0.3\n        self.b = np.zeros(hidden_dim)\n        self.dW_in = np.zeros_like(self.W_in)\n        self.dW_rec = np.zeros_like(self.W_rec)\n        self.db = np.zeros_like(self.b)\n\n    def zero_grad(self):\n        self.dW_in = np.zeros_like(self.W_in)\n        self.dW_rec = np.zeros_like(self.W_rec)\n        self.db = np.zeros_like(self.b)\n\n    def forward(self, x_t, h_prev):\n        if x_t.ndim != 1:\n            raise ValueError("one sample at a time")\n        self.x_t, self.h_prev = x_t, h_prev\n        self.h_t = np.tanh(np.dot(self.W_in, x_t) + np.dot(self.W_rec, h_prev) + self.b)\n        return self.h_t\n\n    def backward(self, dh_t):\n        da = dh_t * (1 - self.h_t ** 2)\n        self.dW_in += np.outer(da, self.x_t)\n        self.dW_rec += np.outer(da, self.h_prev)\n        self.db += da\n        return np.dot(self.W_in.T, da), np.dot(self.W_rec.T, da)\n'

CASES = {
    "gru": (GRU, "GatedCell", "        dr = dn * self.u * r * (1 - r)", "        dr = dn * r * (1 - r)", {"Wr", "Ur", "br"},
            {"Wr", "Ur", "br", "Wz", "Uz", "bz", "Wn", "Un", "bn", "bu", "h"}),
    "one sample": (ONE_SAMPLE, "OneSampleRNN", "self.dW_rec += np.outer(da, self.h_prev)", "self.dW_rec += np.outer(da, self.h_t)", {"W_rec"},
                   {"W_in", "W_rec", "b", "h_prev"}),
}


@pytest.mark.parametrize("case", CASES)
def test_the_right_cell_is_checked_on_vectors_and_clean(tmp_path, case):
    text, cls, right, _, _, params = CASES[case]
    report = check(planted(tmp_path, "cell.py", text, right, right))
    assert report["findings"] == []
    assert params | {"x"} <= {m["param"] for m in report["measurements"] if m["layer"] == cls and m["verdict"] == "ok"}


@pytest.mark.parametrize("case", CASES)
def test_a_planted_mistake_is_found(tmp_path, case):
    text, cls, right, wrong, wrong_params, _ = CASES[case]
    path = planted(tmp_path, "cell.py", text, right, wrong)
    found = errors(check(path))
    assert {f["code"] for f in found} == {"BPD101"}
    assert wrong_params <= {f["param"] for f in found}
