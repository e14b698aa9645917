"""A momentum step that multiplies by the learning rate a velocity that already holds it
(`v = mu * v - lr * g; p += lr * v`): each step moves lr² times the gradient. The direction is right,
so the replay's gradient check passes it; the update statement is named with the velocity's line.
A velocity without the rate (`v = mu * v + g; p -= lr * v`) and one moved alone stay clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# A class that keeps a velocity per parameter, as the book's Momentum does, driving a function-pair network.
KEYED = '''\
import numpy as np


class Heavy:
    def __init__(self, step=0.2, keep=0.8):
        self.step, self.keep, self.v = step, keep, None

    def apply(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
        for key in params:
            self.v[key] = self.keep * self.v[key] + self.step * grads[key]
            params[key] -= self.v[key]


def loss_and_grads(params, X, y):
    z = X @ params["w"] + params["c"]
    p = 1.0 / (1.0 + np.exp(-z))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    dz = (p - y) / len(y)
    return loss, {"w": X.T @ dz, "c": dz.sum(axis=0)}


rng = np.random.default_rng(5)
X = rng.normal(size=(120, 3))
y = (X @ np.array([[1.0], [-1.0], [0.5]]) > 0).astype(float)
params = {"w": rng.normal(size=(3, 1)) * 0.1, "c": np.zeros(1)}
opt = Heavy()
for it in range(200):
    loss, grads = loss_and_grads(params, X, y)
    opt.apply(params, grads)
print(loss)
'''

# Plain names, a script with no functions: one weight vector and its velocity.
SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(2)
inputs = rng.normal(size=(80, 2))
targets = inputs @ np.array([2.0, -3.0]) + 1.0
weights = np.zeros(2)
offset = 0.0
vel_w = np.zeros(2)
vel_b = 0.0
alpha, beta = 0.05, 0.9
for epoch in range(100):
    residual = inputs @ weights + offset - targets
    cost = np.mean(residual ** 2)
    grad_w = 2 * inputs.T @ residual / len(targets)
    grad_b = 2 * residual.mean()
    vel_w = beta * vel_w - alpha * grad_w
    vel_b = beta * vel_b - alpha * grad_b
    weights = weights + vel_w
    offset = offset + vel_b
print(cost)
'''

# The rate applied once, at the update: a velocity of gradients alone (PyTorch's convention).
ONCE = SCRIPT.replace("vel_w = beta * vel_w - alpha * grad_w", "vel_w = beta * vel_w + grad_w").replace(
    "vel_b = beta * vel_b - alpha * grad_b", "vel_b = beta * vel_b + grad_b"
).replace("weights = weights + vel_w", "weights = weights - alpha * vel_w").replace("offset = offset + vel_b", "offset = offset - alpha * vel_b")


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-rate-applied-twice"]


def test_a_keyed_velocity_multiplied_by_the_rate_again_is_named_at_the_update(tmp_path):
    path = planted(tmp_path, "keyed.py", KEYED, "params[key] -= self.v[key]", "params[key] -= self.step * self.v[key]")
    report = check(path)
    (finding,) = _ours(report)
    assert (finding["code"], finding["severity"]) == ("BPD114", "error")
    assert finding["line"] == line_of(path, "params[key] -= self.step * self.v[key]")
    assert f"line {line_of(path, 'self.v[key] = self.keep')}" in finding["message"]
    assert "`self.step`" in finding["message"] and "without `self.step`" in finding["message"]
    assert [f["name"] for f in errors(report)] == ["step-rate-applied-twice"]


def test_plain_names_in_a_script_with_the_rate_twice_are_named_too(tmp_path):
    path = planted(tmp_path, "script.py", SCRIPT, "weights = weights + vel_w", "weights = weights + alpha * vel_w")
    (finding,) = _ours(check(path))
    assert finding["line"] == line_of(path, "weights = weights + alpha * vel_w")
    assert "`alpha`" in finding["message"]


def test_a_rate_applied_once_stays_clean_wherever_it_is_written(tmp_path):
    for name, text in (("keyed.py", KEYED), ("script.py", SCRIPT), ("once.py", ONCE)):
        report = check(write(tmp_path, name, text))
        assert errors(report) == [], (name, errors(report))
        assert report["extras"]["replay"][0]["parameters"], name  # the step was replayed and judged
