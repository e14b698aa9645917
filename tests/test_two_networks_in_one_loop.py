"""Two networks trained apart in one loop body: each pass computes one network's gradient and updates it
(through the same `update(params, grads)` helper, or the same function handed each one's dict), then does
the same for the other network on the same batch, and reports each one's loss after its update. The loop
was replayed as one step whose loss was the first network's: the second network's updates, which that
loss cannot see, were called `step-gradient-mismatch` ("the loss does not change when they do").
`static.steps._independent` now reads such a body as two steps when each run of updates moves variables of
its own (`_moved_roots`: the argument the helper's updates write into) and the statements that compute
its gradient read nothing the earlier run moved or computed from it; each step is judged against the
losses that read its own network (`_reads_any`).

Two styles: network objects with `gradient`/`loss` methods and an optimizer object per network; dicts of
arrays, a gradient function per network and one `apply_step(p, g, rate)`. Both are clean, with a step for
each network; a wrong derivative planted in the second network's gradient function is named at its line
against that network's own loss; a bias gradient divided by the batch in the shared class is still
reported. One network updated in two runs, its hidden gradient computed after its output weights moved,
stays one step and is still reported.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

OBJECTS = '''\
import numpy as np


class Plain:
    def __init__(self, sizes, scale, seed):
        rng = np.random.default_rng(seed)
        self.params = {}
        for i in range(1, len(sizes)):
            self.params["W%d" % i] = rng.normal(0, scale, (sizes[i - 1], sizes[i]))
            self.params["b%d" % i] = np.zeros(sizes[i])
        self.n = len(sizes) - 1

    def forward(self, x):
        acts = [x]
        for i in range(1, self.n + 1):
            z = acts[-1] @ self.params["W%d" % i] + self.params["b%d" % i]
            acts.append(np.maximum(z, 0) if i < self.n else z)
        return acts

    def loss(self, x, t):
        z = self.forward(x)[-1]
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.mean(np.log(p[np.arange(len(t)), t]))

    def gradient(self, x, t):
        acts = self.forward(x)
        z = acts[-1] - acts[-1].max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        d = p.copy()
        d[np.arange(len(t)), t] -= 1
        d /= len(t)
        grads = {}
        for i in range(self.n, 0, -1):
            grads["W%d" % i] = acts[i - 1].T @ d
            grads["b%d" % i] = d.sum(axis=0)
            d = d @ self.params["W%d" % i].T
            if i > 1:
                d = d * (acts[i - 1] > 0)
        return grads


class Descent:
    def __init__(self, lr):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


rng = np.random.default_rng(0)
X = rng.normal(size=(200, 4))
T = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)

small = Plain([4, 16, 2], 0.1, 1)
wide = Plain([4, 32, 32, 2], 0.3, 2)
opt_small, opt_wide = Descent(0.2), Descent(0.05)
curves = {"small": [], "wide": []}
for it in range(300):
    idx = rng.choice(200, 32)
    xb, tb = X[idx], T[idx]
    g = small.gradient(xb, tb)
    opt_small.update(small.params, g)
    curves["small"].append(small.loss(xb, tb))
    g2 = wide.gradient(xb, tb)
    opt_wide.update(wide.params, g2)
    curves["wide"].append(wide.loss(xb, tb))
print(curves["small"][-1], curves["wide"][-1])
'''

DICTS = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(64, 3))
Y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]


def linear_loss(p, X, Y):
    return 0.5 * np.mean((X @ p["w"] + p["c"] - Y) ** 2)


def linear_grads(p, X, Y):
    e = (X @ p["w"] + p["c"] - Y) / len(X)
    return {"w": X.T @ e, "c": e.sum(axis=0)}


def mlp_loss(p, X, Y):
    h = np.tanh(X @ p["W1"] + p["b1"])
    return 0.5 * np.mean((h @ p["W2"] + p["b2"] - Y) ** 2)


def mlp_grads(p, X, Y):
    h = np.tanh(X @ p["W1"] + p["b1"])
    e = (h @ p["W2"] + p["b2"] - Y) / len(X)
    dh = (e @ p["W2"].T) * (1 - h ** 2)
    return {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ e, "b2": e.sum(axis=0)}


def apply_step(p, g, rate):
    for k in p:
        p[k] -= rate * g[k]


lin = {"w": rng.normal(0, 0.1, (3, 1)), "c": np.zeros(1)}
mlp = {"W1": rng.normal(0, 0.5, (3, 8)), "b1": np.zeros(8), "W2": rng.normal(0, 0.5, (8, 1)), "b2": np.zeros(1)}
for epoch in range(300):
    ga = linear_grads(lin, X, Y)
    apply_step(lin, ga, 0.1)
    gb = mlp_grads(mlp, X, Y)
    apply_step(mlp, gb, 0.05)
    if epoch % 50 == 0:
        print(epoch, linear_loss(lin, X, Y), mlp_loss(mlp, X, Y))
'''

ONE_NETWORK = '''\
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(50, 3))
Y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
W1 = rng.normal(0, 0.5, (3, 6))
W2 = rng.normal(0, 0.5, (6, 1))
lr = 0.5
for step in range(500):
    H = np.tanh(X @ W1)
    P = 1 / (1 + np.exp(-(H @ W2)))
    loss = -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))
    D2 = (P - Y) / len(X)
    dW2 = H.T @ D2
    D1 = (D2 @ W2.T) * (1 - H ** 2)
    W2 -= lr * dW2
    if step % 100 == 0:
        print(step, loss)
    dW1 = X.T @ D1
    W1 -= lr * dW1
'''


def _steps(report: dict) -> list[dict]:
    return report["extras"]["replay"]


def _verdicts(report: dict) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}


def test_two_network_objects_with_an_optimizer_each_are_two_clean_steps(tmp_path):
    report = check(write(tmp_path, "objects.py", OBJECTS))
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    steps = {step["loss"]: [p["name"].split("[")[0] for p in step["parameters"]] for step in _steps(report)}
    assert steps == {"small.loss": ["small.params"] * 4, "wide.loss": ["wide.params"] * 6}  # each step moves its own network only
    verdicts = _verdicts(report)
    assert len(verdicts) == 10 and set(verdicts.values()) == {"ok"}, verdicts


def test_two_dicts_stepped_by_one_function_are_two_clean_steps(tmp_path):
    report = check(write(tmp_path, "dicts.py", DICTS))
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    steps = {step["loss"]: [p["name"].split("[")[0] for p in step["parameters"]] for step in _steps(report)}
    assert steps == {"linear_loss": ["lin"] * 2, "mlp_loss": ["mlp"] * 4}
    assert set(_verdicts(report)) == {"lin['w']", "lin['c']", "mlp['W1']", "mlp['b1']", "mlp['W2']", "mlp['b2']"}


def test_a_wrong_derivative_in_the_second_network_is_named_against_its_own_loss(tmp_path):
    path = planted(tmp_path, "dicts_wrong.py", DICTS, 'dh = (e @ p["W2"].T) * (1 - h ** 2)', 'dh = (e @ p["W2"].T) * (1 - h)')
    (found,) = errors(check(path))
    assert found["code"] == "BPD108" and found["line"] == line_of(path, 'dh = (e @ p["W2"].T)')
    assert "`mlp_loss`" in found["message"] and "linear_loss" not in found["message"]


def test_a_wrong_bias_gradient_in_the_shared_class_is_still_reported(tmp_path):
    path = planted(tmp_path, "objects_wrong.py", OBJECTS, 'grads["b%d" % i] = d.sum(axis=0)', 'grads["b%d" % i] = d.mean(axis=0)')
    found = errors(check(path))
    assert found and all(f["line"] == line_of(path, 'grads["b%d" % i] = d.mean(axis=0)') for f in found)


def test_one_network_updated_in_two_runs_is_one_step(tmp_path):
    report = check(write(tmp_path, "one.py", ONE_NETWORK))
    assert errors(report) == []
    assert len(_steps(report)) == 1 and set(_verdicts(report)) == {"W1", "W2"}


def test_one_network_whose_hidden_gradient_reads_the_moved_output_weights_is_still_reported(tmp_path):
    text = ONE_NETWORK.replace("    D1 = (D2 @ W2.T) * (1 - H ** 2)\n", "").replace("    dW1 = X.T @ D1\n", "    D1 = (D2 @ W2.T) * (1 - H ** 2)\n    dW1 = X.T @ D1\n")
    path = write(tmp_path, "one_wrong.py", text)
    report = check(path)
    (found,) = errors(report)
    assert found["code"] == "BPD108" and "after line" in found["message"]
    assert len(_steps(report)) == 1
