"""Layers made of closures (`def dense(n_in, n_out): params = {...}; def forward(x): ...; return
forward, backward, params, grads`): the dict a layer's tuple holds and the one its functions' cells
read are one dict, so the replay copies them as one (a copy of the tuple alone would leave the
functions reading the program's own arrays, and the step would never give the same loss twice)."""

from tests.userfiles import check, errors, planted, replayed, write

CLOSURES = """
    import numpy as np

    rng = np.random.default_rng(2)


    def dense(n_in, n_out):
        params = {"W": rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_out)), "b": np.zeros(n_out)}
        grads = {k: np.zeros_like(v) for k, v in params.items()}
        seen = {}

        def forward(x):
            seen["x"] = x
            return x @ params["W"] + params["b"]

        def backward(dy):
            grads["W"][...] = seen["x"].T @ dy
            grads["b"][...] = dy.sum(axis=0)
            return dy @ params["W"].T

        return forward, backward, params, grads


    def sigmoid():
        seen = {}

        def forward(z):
            seen["s"] = 1.0 / (1.0 + np.exp(-z))
            return seen["s"]

        def backward(ds):
            return ds * seen["s"] * (1.0 - seen["s"])

        return forward, backward, {}, {}


    layers = [dense(2, 16), sigmoid(), dense(16, 1)]
    x = rng.uniform(-1, 1, (100, 2))
    y = np.sin(2 * x[:, :1]) * x[:, 1:]
    for step in range(500):
        out = x
        for forward, _, _, _ in layers:
            out = forward(out)
        loss = 0.5 * np.mean((out - y) ** 2)
        d = (out - y) / len(x)
        for _, backward, _, _ in reversed(layers):
            d = backward(d)
        for _, _, params, grads in layers:
            for k in params:
                params[k] -= 0.5 * grads[k]
        if step % 100 == 0:
            print(step, loss)
"""


def test_closure_layers_are_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "closures.py", CLOSURES))
    assert errors(report) == [], errors(report)
    measured = replayed(report)["parameters"]
    assert len(measured) == 4 and not any(p["wrong"] for p in measured), measured


def test_a_wrong_slope_inside_a_closure_is_told(tmp_path):
    path = planted(tmp_path, "closures.py", CLOSURES, 'return ds * seen["s"] * (1.0 - seen["s"])', 'return ds * seen["s"]')
    found = errors(check(path))
    assert found and found[0]["code"] == "BPD108", found
