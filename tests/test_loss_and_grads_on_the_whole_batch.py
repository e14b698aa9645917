"""A `loss_and_grads(P, x, y)` function is checked on the batch the program gave it, cut to its first
rows only where the cut fits: a time-major batch `xs (T, N, D)` with labels `(N,)` is not cut on
different axes (16 labels against 64 sequences), and a loss that reads the batch size as a module
constant (`np.arange(N)`) is checked on the whole batch when the cut one raises."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

TIME_MAJOR = """\
    import numpy as np

    T, N, D, H, K = 5, 48, 3, 6, 2

    def loss_and_grads(P, xs, y):
        hs = [np.tanh(xs[t] @ P["Wx"] + P["b"]) for t in range(T)]
        pooled = sum(hs) / T
        scores = pooled @ P["Wo"]
        scores = scores - scores.max(axis=1, keepdims=True)
        prob = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        loss = -np.log(prob[np.arange(N), y]).mean()
        dscores = prob.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        g = {"Wo": pooled.T @ dscores}
        dpooled = dscores @ P["Wo"].T / T
        g["Wx"] = np.zeros_like(P["Wx"])
        g["b"] = np.zeros_like(P["b"])
        for t in range(T):
            dz = dpooled * (1 - hs[t] ** 2)
            g["Wx"] += xs[t].T @ dz
            g["b"] += dz.sum(axis=0)
        return loss, g

    rng = np.random.RandomState(3)
    P = {"Wx": 0.4 * rng.randn(D, H), "b": np.zeros(H), "Wo": 0.4 * rng.randn(H, K)}
    xs = rng.randn(T, N, D)
    y = (xs[:, :, 0].sum(axis=0) > 0).astype(int)
    for step in range(150):
        loss, g = loss_and_grads(P, xs, y)
        for k in P:
            P[k] -= 0.5 * g[k]
    print(loss)
"""

ROWS_CONSTANT = """\
    import numpy as np

    N, D, K = 40, 4, 3

    def loss_and_grads(P, X, y):
        scores = X @ P["W"] + P["b"]
        scores = scores - scores.max(axis=1, keepdims=True)
        prob = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        loss = -np.log(prob[np.arange(N), y]).sum() / N
        d = prob.copy()
        d[np.arange(N), y] -= 1
        d /= N
        return loss, {"W": X.T @ d, "b": d.sum(axis=0)}

    rng = np.random.RandomState(8)
    X = rng.randn(N, D)
    y = np.argmax(X[:, :K], axis=1)
    P = {"W": 0.1 * rng.randn(D, K), "b": np.zeros(K)}
    for step in range(100):
        loss, g = loss_and_grads(P, X, y)
        P["W"] -= 0.5 * g["W"]
        P["b"] -= 0.5 * g["b"]
    print(loss)
"""


def _raised(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD105"]


def test_a_time_major_batch_is_checked_with_all_its_labels(tmp_path):
    report = check(write(tmp_path, "seq.py", TIME_MAJOR))
    assert _raised(report) == [] and errors(report) == []
    assert {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "loss_and_grads"} == {"Wx": "ok", "b": "ok", "Wo": "ok"}


def test_a_wrong_gradient_of_the_time_major_batch_is_still_found(tmp_path):
    path = planted(tmp_path, "seq.py", TIME_MAJOR, "dpooled = dscores @ P[\"Wo\"].T / T", "dpooled = dscores @ P[\"Wo\"].T")
    found = errors(check(path))
    assert _raised({"findings": found}) == []
    assert {f["param"] for f in found} == {"Wx", "b"}


def test_a_batch_size_read_as_a_module_constant_is_checked_on_the_whole_batch(tmp_path):
    report = check(write(tmp_path, "rows.py", ROWS_CONSTANT))
    assert _raised(report) == [] and errors(report) == []
    assert {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "loss_and_grads"} == {"W": "ok", "b": "ok"}


def test_a_wrong_gradient_with_the_module_constant_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "rows.py", ROWS_CONSTANT, 'return loss, {"W": X.T @ d,', 'return loss, {"W": X.T @ prob,')
    found = errors(check(path))
    assert [f["param"] for f in found] == ["W"]
    assert found[0]["line"] == line_of(path, 'return loss, {"W": X.T @ prob,')
