"""Initial weights too large for a deep network: the loss overflows to NaN whatever the learning rate, but not
when the program starts from smaller weights (`replay.init_scale.smaller_init`). `step-non-finite` then names
the line that draws the weights, not the forward line where the overflow shows. Programs written for these
tests, in two styles: a list of weight matrices made in a comprehension (ReLU, std 2 instead of 0.125) and a
dict literal of parameters (two hidden matrices drawn with std 1 instead of sqrt(2 / fan_in))."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LIST_OF_WEIGHTS = 'import numpy as np\n\nnp.random.seed(3)\nsizes = [5, 128, 128, 128, 128, 128, 1]\nweights = [np.random.randn(a, b) * 0.125 for a, b in zip(sizes[:-1], sizes[1:])]\nbiases = [np.zeros(b) for b in sizes[1:]]\nX = np.random.randn(256, 5)\nY = (np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3])\n\nlr = 0.01\nfor epoch in range(40):\n    for s in range(0, 256, 32):\n        acts = [X[s:s + 32]]\n        for i, (W, b) in enumerate(zip(weights, biases)):\n            z = acts[-1] @ W + b\n            acts.append(np.maximum(z, 0) if i < len(weights) - 1 else z)\n        out = acts[-1]\n        loss = np.mean((out - Y[s:s + 32]) ** 2)\n        delta = 2 * (out - Y[s:s + 32]) / len(out)\n        for i in reversed(range(len(weights))):\n            gW = acts[i].T @ delta\n            gb = delta.sum(axis=0)\n            if i > 0:\n                delta = (delta @ weights[i].T) * (acts[i] > 0)\n            weights[i] -= lr * gW\n            biases[i] -= lr * gb\n    if epoch % 10 == 0:\n        print(epoch, loss)\n'

DICT_OF_PARAMS = 'import numpy as np\n\nrng = np.random.default_rng(8)\nD, H = 6, 200\nparams = {\n    "W1": rng.normal(0.0, np.sqrt(2.0 / D), (D, H)), "b1": np.zeros(H),\n    "W2": rng.normal(0.0, np.sqrt(2.0 / H), (H, H)), "b2": np.zeros(H),\n    "W3": rng.normal(0.0, np.sqrt(2.0 / H), (H, H)), "b3": np.zeros(H),\n    "W4": rng.normal(0.0, np.sqrt(1.0 / H), (H, 1)), "b4": np.zeros(1),\n}\ndata = rng.normal(size=(300, D))\nlabels = np.tanh(data[:, :1] - data[:, 3:4]) * 2.0\n\n\ndef forward(p, x):\n    z1 = x @ p["W1"] + p["b1"]; h1 = np.maximum(z1, 0)\n    z2 = h1 @ p["W2"] + p["b2"]; h2 = np.maximum(z2, 0)\n    z3 = h2 @ p["W3"] + p["b3"]; h3 = np.maximum(z3, 0)\n    return (x, z1, h1, z2, h2, z3, h3), h3 @ p["W4"] + p["b4"]\n\n\ndef gradients(p, cache, out, t):\n    x, z1, h1, z2, h2, z3, h3 = cache\n    d = (out - t) / len(t)\n    g = {"W4": h3.T @ d, "b4": d.sum(0)}\n    d3 = d @ p["W4"].T * (z3 > 0)\n    g["W3"], g["b3"] = h2.T @ d3, d3.sum(0)\n    d2 = d3 @ p["W3"].T * (z2 > 0)\n    g["W2"], g["b2"] = h1.T @ d2, d2.sum(0)\n    d1 = d2 @ p["W2"].T * (z1 > 0)\n    g["W1"], g["b1"] = x.T @ d1, d1.sum(0)\n    return g\n\n\nalpha = 0.01\nfor it in range(500):\n    pick = rng.choice(300, 50, replace=False)\n    cache, out = forward(params, data[pick])\n    cost = 0.5 * np.mean((out - labels[pick]) ** 2)\n    grads = gradients(params, cache, out, labels[pick])\n    for key in params:\n        params[key] -= alpha * grads[key]\n    if it % 100 == 0:\n        print(it, cost)\n'


def _found(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-non-finite"]


def test_weights_drawn_too_large_in_a_comprehension_are_named_at_their_draw(tmp_path):
    bug = planted(tmp_path, "deep.py", LIST_OF_WEIGHTS, "* 0.125 for a, b", "* 2.0 for a, b")
    (finding,) = _found(check(bug, training=True))
    assert finding["line"] == line_of(bug, "weights = [np.random.randn")
    assert "your initial weights are too large" in finding["message"] and "1/sqrt(fan_in)" in finding["message"]

    twin = check(write(tmp_path, "deep_ok.py", LIST_OF_WEIGHTS), training=True)
    assert _found(twin) == [] and errors(twin) == []


def test_a_dict_of_parameters_drawn_with_std_one_is_named_at_the_dict(tmp_path):
    text = DICT_OF_PARAMS.replace('"W2": rng.normal(0.0, np.sqrt(2.0 / H), (H, H))', '"W2": rng.normal(0.0, 1.0, (H, H))')
    bug = planted(tmp_path, "dict.py", text, '"W3": rng.normal(0.0, np.sqrt(2.0 / H), (H, H))', '"W3": rng.normal(0.0, 1.0, (H, H))')
    (finding,) = _found(check(bug, training=True))
    assert finding["line"] == line_of(bug, "params = {")
    assert "std 1" in finding["message"] and "with every weight matrix scaled by 0.1" in finding["message"]

    twin = check(write(tmp_path, "dict_ok.py", DICT_OF_PARAMS), training=True)
    assert _found(twin) == [] and errors(twin) == []
