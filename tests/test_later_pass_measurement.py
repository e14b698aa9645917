"""A wrong derivative can hide while the weights are small: tanh's slope written at the
pre-activation (`1 - z1 ** 2` for `1 - h ** 2`) agrees with the right one to the fourth power of `z1`,
so at the second pass of a network started at 0.01 every gradient measures right. When the replayed
loss then climbs or stops being a number, the step is measured again at a later pass, where the
weights have grown: the wrong line is named there, and a smaller rate that only slows the climb is
not taken for the cause. A correct program is measured once, as before.

The updates here are also written the functional way, `params[name] = params[name] - lr * g` in a
loop, and `W1 = parameters["W1"] - rate * grads["dW1"]` stored in the dict the function returns.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

# 小さな初期値の tanh 回帰ネットワーク
rng = np.random.default_rng(5)
X = rng.uniform(-3, 3, size=(200, 2))
y = (3 * np.sin(X[:, 0]) + X[:, 1])[:, None]


def forward(params, X):
    z1 = X @ params["W1"] + params["b1"]
    h = np.tanh(z1)
    return z1, h, h @ params["W2"] + params["b2"]


def backward(params, X, y, z1, h, out):
    dout = 2 * (out - y) / len(X)
    grads = {"W2": h.T @ dout, "b2": dout.sum(axis=0)}
    dz1 = (dout @ params["W2"].T) * (1 - h ** 2)
    grads["W1"] = X.T @ dz1
    grads["b1"] = dz1.sum(axis=0)
    return grads


def train(X, y, hidden=8, steps=1500, lr=0.1):
    params = {"W1": rng.normal(size=(2, hidden)) * 0.01, "b1": np.zeros(hidden),
              "W2": rng.normal(size=(hidden, 1)) * 0.01, "b2": np.zeros(1)}
    for it in range(steps):
        z1, h, out = forward(params, X)
        mse = np.mean((out - y) ** 2)
        grads = backward(params, X, y, z1, h, out)
        for name in params:
            params[name] = params[name] - lr * grads[name]
        if it % 300 == 0:
            print(it, mse)
    return params


trained = train(X, y)
'''

SLOPE = "    dz1 = (dout @ params[\"W2\"].T) * (1 - h ** 2)\n"
AT_PRE_ACTIVATION = "    dz1 = (dout @ params[\"W2\"].T) * (1 - z1 ** 2)\n"

UNPACKED = '''\
def update(parameters, grads, rate=0.1):
    W1 = parameters["W1"] - rate * grads["W1"]
    b1 = parameters["b1"] - rate * grads["b1"]
    W2 = parameters["W2"] - rate * grads["W2"]
    b2 = parameters["b2"] - rate * grads["b2"]
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


'''


def _unpacked(text: str) -> str:
    text = text.replace("def train(", UNPACKED + "def train(")
    return text.replace("        for name in params:\n            params[name] = params[name] - lr * grads[name]\n", "        params = update(params, grads, lr)\n")


def test_a_slope_hidden_at_small_weights_is_found_at_a_later_pass(tmp_path):
    path = planted(tmp_path, "tanh.py", PROGRAM, SLOPE, AT_PRE_ACTIVATION)
    report = check(path, training=True)
    assert replayed(report)["later_pass"] > 2
    first = errors(report)[0]
    assert (first["code"], first["line"]) == ("BPD108", line_of(path, "(1 - z1 ** 2)"))
    assert all(f["code"] != "BPD608" for f in report["findings"])  # the rate is not the cause
    assert "at pass" in {e["label"]: e["text"] for e in first["evidence"]}["replayed"]


def test_the_correct_program_is_clean_and_measured_once(tmp_path):
    report = check(planted(tmp_path, "ok.py", PROGRAM, SLOPE, SLOPE), training=True)
    assert errors(report) == []
    assert replayed(report)["later_pass"] is None


def test_entries_unpacked_and_returned_are_the_updates_of_the_step(tmp_path):
    ok = planted(tmp_path, "ok.py", _unpacked(PROGRAM), SLOPE, SLOPE)
    report = check(ok)
    assert {m["param"] for m in report["measurements"] if m["layer"] == "training step"} == {
        "params['W1']", "params['b1']", "params['W2']", "params['b2']"
    }
    assert errors(report) == []
    bug = planted(tmp_path, "bug.py", _unpacked(PROGRAM), SLOPE, AT_PRE_ACTIVATION)
    assert errors(check(bug, training=True))[0]["line"] == line_of(bug, "(1 - z1 ** 2)")


def test_a_right_program_whose_rate_is_too_high_keeps_its_rate_finding(tmp_path):
    """Measured again at a later pass, its gradients are still right: the rate stays the cause."""
    path = planted(tmp_path, "fast.py", PROGRAM.replace("lr=0.1", "lr=0.5"), SLOPE, SLOPE)
    report = check(path, training=True)
    codes = [f["code"] for f in errors(report)]
    assert "BPD608" in codes and "BPD108" not in codes
    assert replayed(report)["later_pass"] is None
