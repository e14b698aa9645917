"""An update the update finder does not take for one (`c1 -= step * dc1`: no usual array name, a rate called
`step`, no usual gradient name) still moves its array: `step-gradient-unapplied` (BPD634) must not say the
array is left frozen when a statement of the file writes it from its own gradient. Found while writing the
correct twins of `test_clip_elementwise_through_a_function` (biases named `c1`, `c2`). Two styles: a tanh
regression and a ReLU classifier with a sigmoid output, both updated in place. A gradient really left
unapplied is still named."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

IN_PLACE = '''\
import numpy as np

rs = np.random.RandomState(3)
X = rs.uniform(-2, 2, size=(120, 2))
t = np.sin(2 * X[:, :1]) + X[:, 1:] ** 2
W1 = rs.randn(2, 16) * 0.7
c1 = np.zeros(16)
W2 = rs.randn(16, 1) * 0.3
c2 = np.zeros(1)
step = 0.1
for epoch in range(300):
    h = np.tanh(X @ W1 + c1)
    out = h @ W2 + c2
    cost = np.mean((out - t) ** 2)
    d = 2 * (out - t) / len(X)
    dW2 = h.T @ d
    dc2 = d.sum(axis=0)
    dh = d @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dh
    dc1 = dh.sum(axis=0)
    W1 -= step * dW1
    c1 -= step * dc1
    W2 -= step * dW2
    c2 -= step * dc2
    if epoch % 100 == 0:
        print(epoch, cost)
'''

CLASSIFIER = '''\
import numpy as np

gen = np.random.default_rng(5)
inputs = gen.normal(size=(150, 3))
labels = (inputs[:, 0] * inputs[:, 1] > 0).astype(float)[:, None]
W1 = gen.normal(0, 0.5, (3, 12))
c1 = np.zeros(12)
W2 = gen.normal(0, 0.5, (12, 1))
c2 = np.zeros(1)
step = 0.5
for sweep in range(200):
    z = np.maximum(0, inputs @ W1 + c1)
    p = 1 / (1 + np.exp(-(z @ W2 + c2)))
    bce = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    dlogit = (p - labels) / len(inputs)
    dW2 = z.T @ dlogit
    dc2 = dlogit.sum(axis=0)
    dz = (dlogit @ W2.T) * (z > 0)
    dW1 = inputs.T @ dz
    dc1 = dz.sum(axis=0)
    W1 -= step * dW1
    c1 -= step * dc1
    W2 -= step * dW2
    c2 -= step * dc2
'''


def _unapplied(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD634"]


def test_updates_in_place_under_unusual_names_are_clean(tmp_path):
    report = check(write(tmp_path, "in_place.py", IN_PLACE))
    assert errors(report) == [], report["findings"]


def test_a_classifier_updated_in_place_under_unusual_names_is_clean(tmp_path):
    report = check(write(tmp_path, "classifier.py", CLASSIFIER))
    assert errors(report) == [], report["findings"]


def test_a_gradient_really_left_unapplied_is_still_named(tmp_path):
    path = planted(tmp_path, "classifier.py", CLASSIFIER, "    c1 -= step * dc1\n", "")
    (finding,) = _unapplied(check(path))
    assert finding["param"] == "c1"
