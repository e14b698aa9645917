"""Layers kept as tuples in a list (`("dense", W, b)`, `("relu",)`), their arrays updated in place
through a view of the whole array (`layer[1][...] -= lr * g[0]`) in a loop that walks the layers in
step with a list of gradients (`for layer, g in zip(layers, grads)`): the tuples hold the
parameters, the training step is replayed, and a wrong gradient is told."""

from tests.userfiles import check, errors, planted, replayed, write

TUPLES = """
    import numpy as np

    # 层用元组表示: ("dense", W, b) 或 ("relu",)
    rng = np.random.default_rng(11)


    def make(sizes):
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(("dense", rng.normal(0, np.sqrt(2.0 / n_in), (n_in, n_out)), np.zeros(n_out)))
            if i < len(sizes) - 2:
                layers.append(("relu",))
        return layers


    def run(layers, x):
        seen = []
        for layer in layers:
            seen.append(x)
            x = x @ layer[1] + layer[2] if layer[0] == "dense" else np.maximum(x, 0.0)
        return x, seen


    def back(layers, seen, d):
        grads = [None] * len(layers)
        for i in range(len(layers) - 1, -1, -1):
            x = seen[i]
            if layers[i][0] == "dense":
                grads[i] = (x.T @ d, d.sum(axis=0))
                d = d @ layers[i][1].T
            else:
                d = d * (x > 0)
        return grads


    def update(layers, grads, lr):
        for layer, g in zip(layers, grads):
            if g is None:
                continue
            layer[1][...] -= lr * g[0]
            layer[2][...] -= lr * g[1]


    X = rng.uniform(-1, 1, (128, 2))
    T = (X[:, :1] * X[:, 1:]) * 2
    net = make([2, 16, 1])
    for epoch in range(300):
        out, seen = run(net, X)
        loss = np.mean((out - T) ** 2)
        grads = back(net, seen, 2 * (out - T) / len(X))
        update(net, grads, 0.1)
        if epoch % 100 == 0:
            print(epoch, loss)
"""


def test_the_tuples_are_the_parameters_and_the_step_is_clean(tmp_path):
    report = check(write(tmp_path, "tuples.py", TUPLES))
    assert errors(report) == [], errors(report)
    measured = replayed(report)["parameters"]
    assert len(measured) == 4 and not any(p["wrong"] for p in measured), measured


def test_a_wrong_weight_gradient_in_a_tuple_is_told(tmp_path):
    path = planted(tmp_path, "tuples.py", TUPLES, "grads[i] = (x.T @ d, d.sum(axis=0))", "grads[i] = (x.T @ d * 0.5, d.sum(axis=0))")
    found = errors(check(path))
    assert found and found[0]["code"] == "BPD108", found
