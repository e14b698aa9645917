"""A whole model whose `backward(d)` returns its parameters' gradients alone, under names that say
nothing of them, and no input gradient: lists for its lists of weights (`return gm, gs` for
`self.mats`, `self.shifts`), or one array per parameter (`return g1, g2, g3, g4` for `W1`, `b1`, `W2`,
`b2`). The training loop pairs them with the parameters by order; the check pairs them by shape
(`conventions._classlayer.shaped_places`), so there is no "the gradient of `x` is a list" bad return
(BPD107) nor a shape error on `x` (BPD102): each parameter's gradient is compared, and a wrong one is
named. Two parameters of one shape cannot be told apart: the model is then left to its training step,
with an info note. A layer of a network of layers whose backward returns a list where its input
gradient should be is still a bad return."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

# lists of weights, the gradients' lists grown by `append` and returned reversed into place
LISTS = """\
    import numpy as np


    class Regressor:
        def __init__(self, widths, seed=4):
            g = np.random.default_rng(seed)
            self.mats = [g.normal(size=(m, n)) / np.sqrt(m) for m, n in zip(widths[:-1], widths[1:])]
            self.shifts = [np.full(n, 0.1) for n in widths[1:]]

        def forward(self, x):
            self.seen = [x]
            for k, (M, s) in enumerate(zip(self.mats, self.shifts)):
                x = x @ M + s
                if k < len(self.mats) - 1:
                    x = 1.0 / (1.0 + np.exp(-x))
                self.seen.append(x)
            return x

        def backward(self, d):
            gm, gs = [], []
            for k in reversed(range(len(self.mats))):
                if k < len(self.mats) - 1:
                    a = self.seen[k + 1]
                    d = d * a * (1.0 - a)
                gm.append(self.seen[k].T @ d)
                gs.append(d.sum(axis=0))
                d = d @ self.mats[k].T
            gm.reverse()
            gs.reverse()
            return gm, gs


    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    T = np.stack([X[:, 0] * X[:, 1], np.cos(X[:, 2])], axis=1)
    model = Regressor([3, 10, 6, 2])
    for epoch in range(250):
        P = model.forward(X)
        loss = 0.5 * np.sum((P - T) ** 2) / len(X)
        gm, gs = model.backward((P - T) / len(X))
        for M, g in zip(model.mats, gm):
            M -= 0.2 * g
        for s, g in zip(model.shifts, gs):
            s -= 0.2 * g
    print(loss)
"""

# one array per parameter, the names saying nothing, each stepped by hand
ARRAYS = """\
    import numpy as np


    class TwoLayer:
        def __init__(self, n_in, n_hidden, n_out):
            g = np.random.default_rng(8)
            self.W1 = g.normal(size=(n_in, n_hidden)) * 0.4
            self.b1 = np.zeros((1, n_hidden))
            self.W2 = g.normal(size=(n_hidden, n_out)) * 0.4
            self.b2 = np.zeros((1, n_out))

        def forward(self, x):
            self.x = x
            self.h = np.maximum(0.0, x @ self.W1 + self.b1)
            return self.h @ self.W2 + self.b2

        def backward(self, d):
            g4 = d.sum(axis=0, keepdims=True)
            g3 = self.h.T @ d
            e = (d @ self.W2.T) * (self.h > 0)
            g2 = e.sum(axis=0, keepdims=True)
            g1 = self.x.T @ e
            return g1, g2, g3, g4


    rng = np.random.default_rng(5)
    X = rng.normal(size=(70, 4))
    T = np.tanh(X[:, :2] - X[:, 2:])
    net = TwoLayer(4, 12, 2)
    for it in range(300):
        P = net.forward(X)
        loss = np.mean((P - T) ** 2)
        g1, g2, g3, g4 = net.backward(2.0 * (P - T) / P.size)
        net.W1 -= 0.1 * g1
        net.b1 -= 0.1 * g2
        net.W2 -= 0.1 * g3
        net.b2 -= 0.1 * g4
    print(loss)
"""

# a network of layers whose Dense returns its parameters' gradients where its input gradient should be
LAYERS = """\
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out, seed=0):
            g = np.random.default_rng(seed)
            self.W = g.normal(size=(n_in, n_out)) / np.sqrt(n_in)
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, d):
            self.dW = self.x.T @ d
            self.db = d.sum(axis=0)
            return d @ self.W.T


    class Tanh:
        def forward(self, x):
            self.y = np.tanh(x)
            return self.y

        def backward(self, d):
            return d * (1.0 - self.y ** 2)


    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 3))
    T = np.sin(X[:, :1])
    layers = [Dense(3, 8), Tanh(), Dense(8, 1, seed=1)]
    for step in range(100):
        h = X
        for layer in layers:
            h = layer.forward(h)
        d = 2.0 * (h - T) / len(X)
        for layer in reversed(layers):
            d = layer.backward(d)
        for layer in layers[::2]:
            layer.W -= 0.1 * layer.dW
            layer.b -= 0.1 * layer.db
"""
LIST_RETURNED = "return [self.dW.copy(), self.db.copy()]"


def _warnings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "warning"]


def _verdicts(report: dict, layer: str) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


def test_lists_of_gradients_named_otherwise_are_paired_with_the_lists_of_weights(tmp_path):
    report = check(write(tmp_path, "regressor.py", LISTS))
    assert errors(report) == [] and _warnings(report) == []
    assert _verdicts(report, "Regressor") == {f"{p}[{k}]": "ok" for p in ("mats", "shifts") for k in range(3)}


def test_a_wrong_entry_of_the_returned_lists_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "regressor.py", LISTS, "gs.append(d.sum(axis=0))", "gs.append(d.mean(axis=0))")
    report = check(path)
    assert [f for f in report["findings"] if f["code"] == "BPD107"] == []
    verdicts = _verdicts(report, "Regressor")
    assert {p for p, v in verdicts.items() if v != "ok"} == {"shifts[0]", "shifts[1]", "shifts[2]"}
    assert {(f["layer"], f["line"]) for f in errors(report)} == {("Regressor", line_of(path, "gs.append(d.mean(axis=0))"))}


def test_arrays_returned_under_names_that_say_nothing_are_paired_by_shape(tmp_path):
    report = check(write(tmp_path, "twolayer.py", ARRAYS))
    assert errors(report) == [] and _warnings(report) == []
    assert _verdicts(report, "TwoLayer") == {p: "ok" for p in ("W1", "b1", "W2", "b2")}


def test_a_wrong_array_among_them_is_named_as_its_parameter(tmp_path):
    wrong = "g2 = e.sum(axis=0, keepdims=True) * 2.0"
    path = planted(tmp_path, "twolayer.py", ARRAYS, "g2 = e.sum(axis=0, keepdims=True)", wrong)
    report = check(path)
    found = [(f["code"], f["layer"], f["param"], f["line"]) for f in errors(report)]
    assert found == [("BPD101", "TwoLayer", "b1", line_of(path, wrong))]
    assert {p for p, v in _verdicts(report, "TwoLayer").items() if v != "ok"} == {"b1"}


def test_parameters_of_one_shape_leave_the_model_to_its_training_step(tmp_path):
    """`W1` and `W2` both (6, 6), `b1` and `b2` both (1, 6): the shapes cannot say which value is whose."""
    text = ARRAYS.replace("TwoLayer(4, 12, 2)", "TwoLayer(6, 6, 6)").replace("size=(70, 4)", "size=(70, 6)")
    text = text.replace("np.tanh(X[:, :2] - X[:, 2:])", "np.tanh(X[:, ::-1])")
    path = write(tmp_path, "square.py", text)
    report = check(path, training=True)
    assert errors(report) == [] and _warnings(report) == []
    (note,) = [f for f in report["findings"] if f["pattern"] == "unpaired-gradients"]
    assert (note["severity"], note["layer"], note["line"]) == ("info", "TwoLayer", line_of(path, "def backward(self, d):"))
    assert "have the same shape" in note["message"] and "training step" in note["message"]
    assert _verdicts(report, "TwoLayer") == {}
    assert _verdicts(report, "training step") == {f"net.{p}": "ok" for p in ("W1", "b1", "W2", "b2")}


def test_velocity_lists_of_the_weights_shapes_are_no_parameters(tmp_path):
    """`self.vel` holds one array of each weight's shape, which forward never reads: the gradients pair with the weights."""
    text = LISTS.replace(
        "            self.shifts = [np.full(n, 0.1) for n in widths[1:]]\n",
        "            self.shifts = [np.full(n, 0.1) for n in widths[1:]]\n            self.vel = [np.zeros_like(M) for M in self.mats]\n",
    ).replace("        for M, g in zip(model.mats, gm):\n            M -= 0.2 * g\n",
              "        for M, v, g in zip(model.mats, model.vel, gm):\n            v *= 0.5\n            v -= 0.2 * g\n            M += v\n")  # fmt: skip
    report = check(write(tmp_path, "regressor.py", text))
    assert errors(report) == [] and _warnings(report) == []
    assert _verdicts(report, "Regressor") == {f"{p}[{k}]": "ok" for p in ("mats", "shifts") for k in range(3)}


# the same layers held by a network class that chains their backward passes itself
HELD = LAYERS.replace("""\

    rng = np.random.default_rng(2)""", """\

    class Net:
        def __init__(self):
            self.fc1, self.act, self.fc2 = Dense(3, 8), Tanh(), Dense(8, 1, seed=1)

        def forward(self, x):
            return self.fc2.forward(self.act.forward(self.fc1.forward(x)))

        def backward(self, d):
            d = self.fc2.backward(d)
            return self.fc1.backward(self.act.backward(d))


    rng = np.random.default_rng(2)""").replace("""\
    layers = [Dense(3, 8), Tanh(), Dense(8, 1, seed=1)]
    for step in range(100):
        h = X
        for layer in layers:
            h = layer.forward(h)
        d = 2.0 * (h - T) / len(X)
        for layer in reversed(layers):
            d = layer.backward(d)
        for layer in layers[::2]:""", """\
    net = Net()
    for step in range(100):
        h = net.forward(X)
        net.backward(2.0 * (h - T) / len(X))
        for layer in (net.fc1, net.fc2):""")


@pytest.mark.parametrize("program", [LAYERS, HELD], ids=["list-of-layers", "layers-held-by-a-network"])
def test_a_layer_of_a_network_returning_its_parameters_gradients_is_still_a_bad_return(tmp_path, program):
    assert "net = Net()" in HELD
    path = write(tmp_path, "layers.py", program.replace("return d @ self.W.T", LIST_RETURNED))
    report = check(path)
    assert ("BPD107", "Dense", line_of(path, LIST_RETURNED)) in {(f["code"], f["layer"], f["line"]) for f in errors(report)}


@pytest.mark.parametrize("program", [LAYERS, HELD], ids=["list-of-layers", "layers-held-by-a-network"])
def test_the_layers_returning_their_input_gradient_are_clean(tmp_path, program):
    report = check(write(tmp_path, "layers.py", program))
    assert errors(report) == [] and _warnings(report) == []
    assert _verdicts(report, "Dense") == {"x": "ok", "W": "ok", "b": "ok"}


def test_parameters_of_one_shape_with_no_training_loop_leave_nothing_compared_and_no_error(tmp_path):
    """The model alone, built by the tool: no training step pairs them either, so nothing is compared (a warning)."""
    text = ARRAYS.split("    rng = np.random.default_rng(5)")[0].replace(
        "def __init__(self, n_in, n_hidden, n_out):", "def __init__(self):\n            n_in = n_hidden = n_out = 6"
    )
    path = write(tmp_path, "square.py", text + "    net = TwoLayer()\n")
    report = check(path)
    assert errors(report) == []
    assert [(f["code"], f["pattern"]) for f in _warnings(report)] == [("BPD007", "nothing-compared")]
    (note,) = [f for f in report["findings"] if f["pattern"] == "unpaired-gradients"]
    assert note["severity"] == "info" and "`b1` and `b2` have the same shape" in note["message"]
