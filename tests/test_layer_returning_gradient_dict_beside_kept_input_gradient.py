"""A layer whose backward returns its parameters' gradients in a dict keyed by the parameters' names
(`return {"W": dW, "b": db}`) and keeps its input's gradient in an attribute (`self.d_in = ...`,
`self.dx = ...`) is a layer, not a whole model: dx is read from that attribute, each parameter's
gradient from the returned entry under its name (or a gradient's name for it), and a wrong input
gradient is named at the statement that keeps it. A model whose backward returns such a dict and keeps
no input gradient is still a whole model, checked through its training step.

Two styles: a dataclass layer (fields `W`, `b`) whose backward keeps `self.d_in` before returning the
dict, checked as the program calls it and built from its definition alone; and a plain `Linear` class
keeping `self.dx`, its dict keyed `"weight"`, `"bias"`, beside a ReLU written the book's way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

DATACLASS = """\
    from dataclasses import dataclass, field

    import numpy as np


    @dataclass
    class Layer:
        W: np.ndarray
        b: np.ndarray
        squash: bool = True
        saved: dict = field(default_factory=dict, repr=False)

        def forward(self, x):
            a = x @ self.W + self.b
            out = np.tanh(a) if self.squash else a
            self.saved = {"x": x, "out": out}
            return out

        def backward(self, grad):
            if self.squash:
                grad = grad * (1.0 - self.saved["out"] ** 2)
            self.d_in = grad @ self.W.T
            return {"W": self.saved["x"].T @ grad, "b": grad.sum(axis=0)}
"""

DATACLASS_SCRIPT = DATACLASS + """\


    rng = np.random.default_rng(11)
    layers = [Layer(rng.normal(0, 0.5, (3, 8)), np.zeros(8)), Layer(rng.normal(0, 0.5, (8, 1)), np.zeros(1), squash=False)]
    X = rng.normal(size=(64, 3))
    Y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]
    for epoch in range(100):
        h = X
        for layer in layers:
            h = layer.forward(h)
        loss = np.mean((h - Y) ** 2)
        g = 2 * (h - Y) / h.size
        for layer in reversed(layers):
            grads = layer.backward(g)
            layer.W -= 0.1 * grads["W"]
            layer.b -= 0.1 * grads["b"]
            g = layer.d_in
"""

LINEAR = """\
    import numpy as np


    class Linear:
        def __init__(self, n_in, n_out, rng):
            self.weight = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out))
            self.bias = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.weight + self.bias

        def backward(self, grad):
            self.dx = grad @ self.weight.T
            return {"weight": self.x.T @ grad, "bias": grad.sum(axis=0)}


    class ReLU:
        def forward(self, x):
            self.mask = x > 0
            return x * self.mask

        def backward(self, grad):
            return grad * self.mask


    rng = np.random.default_rng(4)
    net = [Linear(2, 12, rng), ReLU(), Linear(12, 3, rng)]
    X = rng.normal(size=(90, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3).astype(int)
    for step in range(120):
        h = X
        for layer in net:
            h = layer.forward(h)
        p = np.exp(h - h.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(90), y]).mean()
        g = p.copy()
        g[np.arange(90), y] -= 1
        g /= 90
        for layer in reversed(net):
            if isinstance(layer, Linear):
                grads = layer.backward(g)
                layer.weight -= 0.3 * grads["weight"]
                layer.bias -= 0.3 * grads["bias"]
                g = layer.dx
            else:
                g = layer.backward(g)
"""

# the planted bugs: the input gradient kept before the tanh's derivative; divided by the batch once more
WRONG = {
    "dataclass.py": (
        DATACLASS_SCRIPT,
        '        if self.squash:\n            grad = grad * (1.0 - self.saved["out"] ** 2)\n        self.d_in = grad @ self.W.T\n',
        '        self.d_in = grad @ self.W.T\n        if self.squash:\n            grad = grad * (1.0 - self.saved["out"] ** 2)\n',
        "self.d_in = grad @ self.W.T",
    ),
    "linear.py": (LINEAR, "self.dx = grad @ self.weight.T", "self.dx = grad @ self.weight.T / len(grad)", "self.dx = grad @ self.weight.T / len(grad)"),
}

MODEL = """\
    import numpy as np


    class Net:
        def __init__(self, rng):
            self.W1 = rng.normal(0, 0.5, (2, 10))
            self.W2 = rng.normal(0, 0.5, (10, 1))

        def forward(self, x):
            self.x = x
            self.h = np.tanh(x @ self.W1)
            return self.h @ self.W2

        def backward(self, grad):
            dh = (grad @ self.W2.T) * (1.0 - self.h ** 2)
            return {"W1": self.x.T @ dh, "W2": self.h.T @ grad}


    rng = np.random.default_rng(2)
    net = Net(rng)
    X = rng.normal(size=(50, 2))
    Y = X[:, :1] * X[:, 1:]
    for step in range(100):
        pred = net.forward(X)
        loss = np.mean((pred - Y) ** 2)
        grads = net.backward(2 * (pred - Y) / pred.size)
        net.W1 -= 0.2 * grads["W1"]
        net.W2 -= 0.2 * grads["W2"]
"""


def _measured(report: dict, layer: str) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


@pytest.mark.parametrize("name", WRONG)
def test_the_right_layer_is_checked_as_a_layer_and_clean(tmp_path: Path, name: str) -> None:
    program = WRONG[name][0]
    report = check(planted(tmp_path, name, program, "import numpy as np", "import numpy as np"))
    assert errors(report) == [], errors(report)
    layer = "Layer" if name == "dataclass.py" else "Linear"
    params = {"x", "W", "b"} if name == "dataclass.py" else {"x", "weight", "bias"}
    measured = _measured(report, layer)
    assert set(measured) == params and set(measured.values()) == {"ok"}, report["measurements"]
    assert not any("whole model" in (b["skipped"] or "") for b in report["built"]), report["built"]


@pytest.mark.parametrize("name", WRONG)
def test_a_wrong_kept_input_gradient_is_named_at_its_line(tmp_path: Path, name: str) -> None:
    program, correct, wrong, shown = WRONG[name]
    path = planted(tmp_path, name, program, correct, wrong)
    report = check(path)
    found = errors(report)
    assert found, report["findings"]
    root = report["findings"][report["root_cause"]]
    assert root["code"] == "BPD101" and root["line"] == line_of(path, shown), (root, found)
    assert root["param"].endswith("x"), root


def test_the_layer_is_built_from_its_definition_alone(tmp_path: Path) -> None:
    """The dataclass with no program: built with arrays for `W` and `b`, checked for x, W and b."""
    right = check(planted(tmp_path, "layer.py", DATACLASS, "import numpy as np", "import numpy as np"))
    assert errors(right) == [] and set(_measured(right, "Layer")) == {"x", "W", "b"}, (right["findings"], right["built"])
    correct, wrong, shown = WRONG["dataclass.py"][1:]
    path = planted(tmp_path, "layer_wrong.py", DATACLASS, correct, wrong)
    found = errors(check(path))
    assert [(f["code"], f["line"]) for f in found] == [("BPD101", line_of(path, shown))], found


def test_a_model_returning_a_dict_and_keeping_no_input_gradient_is_still_a_whole_model(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "model.py", MODEL, "import numpy as np", "import numpy as np"))
    assert errors(report) == [], errors(report)
    (built,) = [b for b in report["built"] if b["what"].startswith("Net")]
    assert "returns its parameters' gradients by name" in (built["skipped"] or ""), report["built"]
    assert "Net" not in {m["layer"] for m in report["measurements"]}, report["measurements"]


# the dict keyed by gradients' names (`"dW"` for `weight`, case aside), the weight's computed before the return
GRADIENT_KEYS = (
    LINEAR.replace(
        'return {"weight": self.x.T @ grad, "bias": grad.sum(axis=0)}',
        'dW = self.x.T @ grad\n            return {"dW": dW, "db": grad.sum(axis=0)}',
    )
    .replace('grads["weight"]', 'grads["dW"]')
    .replace('grads["bias"]', 'grads["db"]')
)


def test_entries_keyed_by_gradient_names_are_read_and_a_wrong_one_named_where_it_is_computed(tmp_path: Path) -> None:
    right = check(planted(tmp_path, "keys.py", GRADIENT_KEYS, "dW = self.x.T @ grad", "dW = self.x.T @ grad"))
    assert errors(right) == [], errors(right)
    assert _measured(right, "Linear") == {"x": "ok", "weight": "ok", "bias": "ok"}, right["measurements"]
    path = planted(tmp_path, "keys_wrong.py", GRADIENT_KEYS, "dW = self.x.T @ grad", "dW = 2 * self.x.T @ grad")
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["param"], root["line"]) == ("BPD101", "weight", line_of(path, "dW = 2 * self.x.T @ grad")), root
