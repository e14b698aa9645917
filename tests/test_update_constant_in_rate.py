"""A number written into an update beside a named rate, with the gradient read by name from the dict a
backward function returns (`net[name] -= step * grad[name] * 4`, `params[k] -= 10 * learning_rate * grads[k]`),
is a factor of the rate, not of the gradient: the replay reads the step as `step * 4` times `grad[name]`, so
correct programs are clean (no "4 × the gradients of your loss: remove the constant factor"), the right
parameters are measured right beside a wrong one, and a wrong sigmoid derivative that every wrong gradient is
computed from (the slope evaluated on the pre-activation) is named at its own line inside the backward
function, where the dict entries are formed from it (`checks.step_gradient_mismatch._keyed_lines`).
Two styles: a dict-of-caches regression script with a separate backward function, and a cs231n-like
`loss, grads = model_loss(X, y, params)` classifier."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

CACHES = '''\
import numpy as np

rng = np.random.default_rng(3)
N, D, H1, H2 = 120, 5, 8, 6
X = rng.normal(size=(N, D))
t = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]


def logistic(a):
    return 1.0 / (1.0 + np.exp(-a))


def setup():
    net = {}
    net["A1"] = rng.normal(0, 0.4, (D, H1))
    net["c1"] = np.zeros(H1)
    net["A2"] = rng.normal(0, 0.4, (H1, H2))
    net["c2"] = np.zeros(H2)
    net["A3"] = rng.normal(0, 0.4, (H2, 1))
    net["c3"] = np.zeros(1)
    return net


def run_forward(net, xb):
    keep = {}
    keep["a1"] = xb @ net["A1"] + net["c1"]
    keep["r1"] = np.tanh(keep["a1"])
    keep["a2"] = keep["r1"] @ net["A2"] + net["c2"]
    keep["s2"] = logistic(keep["a2"])
    keep["out"] = keep["s2"] @ net["A3"] + net["c3"]
    return keep


def objective(out, tb):
    return 0.5 * np.mean((out - tb) ** 2)


def run_backward(net, keep, xb, tb):
    grad = {}
    d_out = (keep["out"] - tb) / len(xb)
    grad["A3"] = keep["s2"].T @ d_out
    grad["c3"] = d_out.sum(axis=0)
    d_s2 = d_out @ net["A3"].T
    d_a2 = d_s2 * keep["s2"] * (1.0 - keep["s2"])
    grad["A2"] = keep["r1"].T @ d_a2
    grad["c2"] = d_a2.sum(axis=0)
    d_r1 = d_a2 @ net["A2"].T
    d_a1 = d_r1 * (1.0 - keep["r1"] ** 2)
    grad["A1"] = xb.T @ d_a1
    grad["c1"] = d_a1.sum(axis=0)
    return grad


net = setup()
step = 0.05
for epoch in range(60):
    for start in range(0, N, 40):
        xb, tb = X[start:start + 40], t[start:start + 40]
        keep = run_forward(net, xb)
        grad = run_backward(net, keep, xb, tb)
        for name in net:
            net[name] -= step * grad[name] * 4   # a larger step, written out
    if epoch % 20 == 0:
        print(epoch, objective(run_forward(net, X)["out"], t))
'''

CS231N = '''\
import numpy as np


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def init_model(n_in, n_hidden, n_out, seed=0):
    r = np.random.RandomState(seed)
    return {
        'W1': 0.3 * r.randn(n_in, n_hidden), 'b1': np.zeros(n_hidden),
        'W2': 0.3 * r.randn(n_hidden, n_hidden), 'b2': np.zeros(n_hidden),
        'W3': 0.3 * r.randn(n_hidden, n_out), 'b3': np.zeros(n_out),
    }


def model_loss(X, y, params):
    z1 = X.dot(params['W1']) + params['b1']
    h1 = np.maximum(z1, 0)
    z2 = h1.dot(params['W2']) + params['b2']
    h2 = sigmoid(z2)
    scores = h2.dot(params['W3']) + params['b3']
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    n = X.shape[0]
    loss = -np.log(probs[np.arange(n), y]).mean()

    grads = {}
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    grads['W3'] = h2.T.dot(dscores)
    grads['b3'] = dscores.sum(axis=0)
    dh2 = dscores.dot(params['W3'].T)
    dz2 = dh2 * h2 * (1 - h2)
    grads['W2'] = h1.T.dot(dz2)
    grads['b2'] = dz2.sum(axis=0)
    dh1 = dz2.dot(params['W2'].T)
    dz1 = dh1 * (z1 > 0)
    grads['W1'] = X.T.dot(dz1)
    grads['b1'] = dz1.sum(axis=0)
    return loss, grads


np.random.seed(1)
X = np.random.randn(150, 4)
y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
params = init_model(4, 10, 3)
learning_rate = 0.1
for it in range(300):
    loss, grads = model_loss(X, y, params)
    for k in params:
        params[k] -= 10 * learning_rate * grads[k]
    if it % 100 == 0:
        print('iteration', it, 'loss', loss)
'''


def _root(report: dict) -> dict:
    assert report["root_cause"] is not None, report["findings"]
    return report["findings"][report["root_cause"]]


def _warnings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "warning"]


def test_dict_of_caches_with_a_number_in_its_update_is_clean(tmp_path):
    report = check(write(tmp_path, "regress.py", CACHES), training=True)
    assert errors(report) == [] and _warnings(report) == [], report["findings"]
    assert set(step_verdicts(report).values()) == {"ok"}, step_verdicts(report)


def test_dict_of_caches_sigmoid_slope_on_the_pre_activation_is_named_at_its_line(tmp_path):
    right = 'd_a2 = d_s2 * keep["s2"] * (1.0 - keep["s2"])'
    path = planted(tmp_path, "regress.py", CACHES, right, 'd_a2 = d_s2 * keep["a2"] * (1.0 - keep["a2"])')
    report = check(path, training=True)
    root = _root(report)
    assert root["severity"] == "error" and root["line"] == line_of(path, "d_a2 = d_s2"), report["findings"]
    assert "4 ×" not in root["message"] and "constant factor" not in root["message"], root
    verdicts = step_verdicts(report)
    assert verdicts["net['A3']"] == verdicts["net['c3']"] == "ok", verdicts
    assert verdicts["net['A1']"] == verdicts["net['A2']"] == "mismatch", verdicts


def test_cs231n_functions_with_a_number_before_the_rate_are_clean(tmp_path):
    report = check(write(tmp_path, "classify.py", CS231N), training=True)
    assert errors(report) == [] and _warnings(report) == [], report["findings"]
    assert set(step_verdicts(report).values()) == {"ok"}, step_verdicts(report)


def test_cs231n_functions_sigmoid_slope_on_the_pre_activation_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "classify.py", CS231N, "dz2 = dh2 * h2 * (1 - h2)", "dz2 = dh2 * z2 * (1 - z2)")
    report = check(path, training=True)
    root = _root(report)
    assert root["severity"] == "error" and root["line"] == line_of(path, "dz2 = dh2"), report["findings"]
    assert "W3" not in root["message"], root["message"]
    verdicts = step_verdicts(report)
    assert verdicts["params['W3']"] == verdicts["params['b3']"] == "ok", verdicts
    assert verdicts["params['W2']"] == "mismatch", verdicts
