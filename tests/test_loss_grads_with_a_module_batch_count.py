"""A function returning `(loss, grads)` that divides by a module number equal to the size of the batch the
program hands it (`dpred = err / B` with `B = 48` beside `X (48, ...)`), itself or through a helper of its
file, is checked on the program's whole batch: on its first 16 rows its gradients would be 16/B of the
loss's, a factor that is no error of the program's (a false gradient-mismatch on correct code)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

GLOBAL_COUNT = """\
    import numpy as np

    B, D, H = 40, 3, 5

    def step_grads(P, X, y):
        h = np.tanh(X @ P["W1"])
        pred = h @ P["w2"] + P["c"]
        err = pred - y
        loss = 0.5 * np.mean(err ** 2)
        dpred = err / B
        g = {"w2": h.T @ dpred, "c": dpred.sum(axis=0)}
        dz = (dpred @ P["w2"].T) * (1 - h ** 2)
        g["W1"] = X.T @ dz
        return loss, g

    rng = np.random.default_rng(4)
    X = rng.standard_normal((B, D))
    y = np.sin(X[:, :1])
    P = {"W1": 0.5 * rng.standard_normal((D, H)), "w2": 0.5 * rng.standard_normal((H, 1)), "c": np.zeros(1)}
    for it in range(60):
        loss, g = step_grads(P, X, y)
        for k in P:
            P[k] -= 0.3 * g[k]
    print(loss)
"""

HELPER_COUNT = """\
    import numpy as np

    N_SAMPLES = 36

    def mse_backward(diff):
        return 2 * diff / N_SAMPLES

    def compute(params, inputs, targets):
        out = inputs @ params["W"] + params["b"]
        diff = out - targets
        loss = np.sum(diff ** 2) / len(inputs)
        dout = mse_backward(diff)
        return loss, {"dW": inputs.T @ dout, "db": dout.sum(axis=0)}

    r = np.random.RandomState(1)
    inputs = r.randn(N_SAMPLES, 4)
    targets = inputs @ r.randn(4, 2)
    params = {"W": 0.3 * r.randn(4, 2), "b": np.zeros(2)}
    for epoch in range(40):
        loss, grads = compute(params, inputs, targets)
        params["W"] -= 0.1 * grads["dW"]
        params["b"] -= 0.1 * grads["db"]
    print(loss)
"""


def _verdicts(report: dict, layer: str) -> dict:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


def test_a_function_dividing_by_the_module_batch_size_is_clean(tmp_path):
    report = check(write(tmp_path, "fn.py", GLOBAL_COUNT))
    assert errors(report) == []
    assert _verdicts(report, "step_grads") == {"W1": "ok", "w2": "ok", "c": "ok"}


def test_a_helper_dividing_by_the_module_batch_size_is_clean(tmp_path):
    report = check(write(tmp_path, "helper.py", HELPER_COUNT))
    assert errors(report) == []
    assert _verdicts(report, "compute") == {"W": "ok", "b": "ok"}


def test_a_wrong_gradient_beside_the_module_batch_size_is_still_found(tmp_path):
    wrong = 'dz = (dpred @ P["w2"].T) * (1 - h)'
    path = planted(tmp_path, "fn.py", GLOBAL_COUNT, 'dz = (dpred @ P["w2"].T) * (1 - h ** 2)', wrong)
    found = errors(check(path))
    assert found and {f["line"] for f in found} <= {line_of(path, wrong), line_of(path, 'g["W1"] = X.T @ dz')}


def test_a_wrong_helper_beside_the_module_batch_size_is_still_found(tmp_path):
    path = planted(tmp_path, "helper.py", HELPER_COUNT, "return 2 * diff / N_SAMPLES", "return diff / N_SAMPLES")
    assert errors(check(path))
