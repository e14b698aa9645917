"""`step-frozen-parameters` (BPD622) is about a parameter that never learns, not about one pass.

A loop updating after every sample replays one sample's step: when that sample's input is all zeros
(XOR's `[0, 0]`), the first layer's weight gradient `np.outer(x, dz1)` is exactly zero there, and
right. The loop's own later passes, on the other samples, move those weights, so nothing is frozen
and the correct program is clean. A program whose inputs are zeros at every sample keeps the finding.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

# the second pass (the one the replay measures) is the sample of zeros
SCRIPT = '''\
import numpy as np

np.random.seed(4)
X = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
T = np.array([0.0, 0.0, 1.0, 1.0])
A = np.random.uniform(-1, 1, (2, 5))
a = np.zeros(5)
B = np.random.uniform(-1, 1, 5)
c = np.zeros(1)


def act(v):
    return 1.0 / (1.0 + np.exp(-v))


for sweep in range(60):
    for k in range(4):
        x, t = X[k], T[k]
        u = x @ A + a
        hid = act(u)
        p = act(hid @ B + c)
        err = -(t * np.log(p[0]) + (1 - t) * np.log(1 - p[0]))
        dp = p - t
        dB = hid * dp
        dc = dp
        du = B * dp * hid * (1 - hid)
        dA = np.outer(x, du)
        da = du
        A -= 2.0 * dA
        a -= 2.0 * da
        B -= 2.0 * dB
        c -= 2.0 * dc
'''

CLASSY = '''\
import numpy as np


class Net:
    def __init__(self, n_in, n_hidden, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(0, 0.8, (n_in, n_hidden))
        self.b = np.zeros(n_hidden)
        self.v = rng.normal(0, 0.8, n_hidden)
        self.d = 0.0

    def forward(self, x):
        self.x = x
        self.h = np.tanh(x @ self.W + self.b)
        return self.h @ self.v + self.d

    def train_one(self, x, y, lr):
        out = self.forward(x)
        loss = 0.5 * (out - y) ** 2
        g = out - y
        gv = self.h * g
        gd = g
        gz = self.v * g * (1 - self.h ** 2)
        gW = np.outer(self.x, gz)
        gb = gz
        self.W -= lr * gW
        self.b -= lr * gb
        self.v -= lr * gv
        self.d -= lr * gd
        return loss


def main():
    data = [(np.array([0.5, -1.0, 2.0]), 1.0), (np.zeros(3), -0.5), (np.array([1.5, 0.5, -0.5]), 0.25),
            (np.array([-1.0, 1.0, 1.0]), -1.0), (np.array([0.0, 2.0, 0.5]), 0.75)]
    net = Net(3, 6)
    for epoch in range(40):
        total = 0.0
        for x, y in data:
            total += net.train_one(x, y, 0.05)
    return net


main()
'''


def _frozen(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD622"]


def test_a_script_whose_replayed_sample_is_zeros_is_clean(tmp_path):
    report = check(write(tmp_path, "xor_online.py", SCRIPT), training=True)
    assert errors(report) == []
    assert _frozen(report) == []


def test_a_class_stepping_one_sample_at_a_time_through_a_zero_input_is_clean(tmp_path):
    report = check(write(tmp_path, "online_net.py", CLASSY), training=True)
    assert errors(report) == []
    assert _frozen(report) == []


def test_inputs_of_zeros_at_every_sample_still_freeze_the_first_layer(tmp_path):
    """The twin whose every input row is zero: `A` gets no gradient at any pass, and is named."""
    path = planted(
        tmp_path, "xor_zeros.py", SCRIPT,
        "X = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])", "X = np.zeros((4, 2))",
    )  # fmt: skip
    (found,) = _frozen(check(path, training=True))
    assert "`A`" in found["message"] and "`B`" not in found["message"]
