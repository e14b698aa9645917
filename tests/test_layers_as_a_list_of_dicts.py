"""A network kept as a list of dicts, one per layer (`{"W": ..., "b": ..., "act": "relu"}`), its forward,
backward and update each a function that walks the list: a wrong gradient set in the backward's loop
(`layer["db"] = ...`) is named at that line, though the update reads it in a loop of its own."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

LAYERS = '''\
import numpy as np

rng = np.random.default_rng(2)
layers = []
for n_in, n_out, act in [(3, 10, "relu"), (10, 1, "sigmoid")]:
    layers.append({"W": rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)), "b": np.zeros(n_out), "act": act})


def forward(X):
    A = X
    for layer in layers:
        layer["A_prev"] = A
        layer["Z"] = A @ layer["W"] + layer["b"]
        A = 1 / (1 + np.exp(-layer["Z"])) if layer["act"] == "sigmoid" else np.maximum(0, layer["Z"])
        layer["A"] = A
    return A


def backward(Y):
    m = Y.shape[0]
    dA = None
    for layer in reversed(layers):
        if layer["act"] == "sigmoid":
            dZ = (layer["A"] - Y) / m
        else:
            dZ = dA * (layer["Z"] > 0)
        layer["dW"] = layer["A_prev"].T @ dZ
        layer["db"] = dZ.sum(axis=0)
        dA = dZ @ layer["W"].T


def update(lr):
    for layer in layers:
        layer["W"] -= lr * layer["dW"]
        layer["b"] -= lr * layer["db"]


X = rng.normal(size=(200, 3))
Y = (np.sum(X ** 2, axis=1, keepdims=True) < 2.5).astype(float)
for epoch in range(300):
    out = forward(X)
    loss = -np.mean(Y * np.log(out + 1e-12) + (1 - Y) * np.log(1 - out + 1e-12))
    backward(Y)
    update(0.5)
'''


def test_the_network_written_right_is_clean(tmp_path):
    report = check(write(tmp_path, "layers.py", LAYERS))
    assert errors(report) == []
    assert [p["wrong"] for p in replayed(report)["parameters"]] == [False] * 4


def test_a_bias_gradient_summed_over_everything_is_named_where_the_backward_sets_it(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, 'layer["db"] = dZ.sum(axis=0)', 'layer["db"] = np.sum(dZ)')
    (finding,) = errors(check(path))
    assert (finding["pattern"], finding["line"]) == ("broadcast-gradient", line_of(path, 'layer["db"] = np.sum(dZ)'))
