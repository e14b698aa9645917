"""Layer classes run by calling the object (`h = layer(h)`, a `__call__` of their own) with a
backward named `backward` or `back`, or a `forward` with a `back`, keeping their gradients as
`gW`/`gb` or `grad_W`: each layer is checked on its own, a scale kept as a row (`gamma` of shape
(1, n)) is fed inputs of n features, and a layer that draws its weights from a legacy
`RandomState` passed to its constructor is built with one."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted

# `__call__` and `back`, gradients `gW`, a row-shaped scale, a RandomState handed to the constructor
CALL_AND_BACK = """\
    import numpy as np


    class Dense:
        def __init__(self, n_in, n_out, rs):
            self.W = rs.randn(n_in, n_out) / np.sqrt(n_in)
            self.b = np.zeros((1, n_out))

        def __call__(self, x):
            self.x = x
            return x @ self.W + self.b

        def back(self, g):
            self.gW = self.x.T @ g
            self.gb = g.sum(axis=0, keepdims=True)
            return g @ self.W.T


    class Scale:
        def __init__(self, n):
            self.gamma = np.ones((1, n))

        def __call__(self, x):
            self.x = x
            return np.tanh(x) * self.gamma

        def back(self, g):
            t = np.tanh(self.x)
            self.ggamma = np.sum(g * t, axis=0, keepdims=True)
            return g * self.gamma * (1 - t ** 2)


    def mse(pred, target):
        diff = pred - target
        return np.mean(diff ** 2), 2 * diff / diff.size


    rs = np.random.RandomState(3)
    X = rs.randn(120, 3)
    Y = np.sin(X @ np.array([[1.0], [-2.0], [0.5]]))
    model = [Dense(3, 16, rs), Scale(16), Dense(16, 1, rs)]
    for epoch in range(200):
        out = X
        for layer in model:
            out = layer(out)
        loss, g = mse(out, Y)
        for layer in reversed(model):
            g = layer.back(g)
        for layer in model:
            if isinstance(layer, Dense):
                layer.W -= 0.1 * layer.gW
                layer.b -= 0.1 * layer.gb
            else:
                layer.gamma -= 0.1 * layer.ggamma
"""

# `__call__` and `backward`, gradients `grad_W`, one sample of a classifier per row
CALL_AND_BACKWARD = """\
    import numpy as np


    class FullyConnected:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) * 0.1
            self.b = np.zeros(n_out)

        def __call__(self, inputs):
            self.inputs = inputs
            return inputs @ self.W + self.b

        def backward(self, upstream):
            self.grad_W = self.inputs.T @ upstream
            self.grad_b = upstream.sum(axis=0)
            return upstream @ self.W.T


    class LeakyRelu:
        def __call__(self, z):
            self.z = z
            return np.where(z > 0, z, 0.01 * z)

        def backward(self, upstream):
            return upstream * np.where(self.z > 0, 1.0, 0.01)


    np.random.seed(0)
    data = np.random.randn(90, 4)
    labels = (data[:, 0] * data[:, 1] > 0).astype(int)
    stack = [FullyConnected(4, 12), LeakyRelu(), FullyConnected(12, 2)]
    for it in range(150):
        h = data
        for part in stack:
            h = part(h)
        e = np.exp(h - h.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(90), labels]).mean()
        up = p.copy()
        up[np.arange(90), labels] -= 1
        up /= 90
        for part in reversed(stack):
            up = part.backward(up)
        for part in stack:
            if isinstance(part, FullyConnected):
                part.W -= 0.5 * part.grad_W
                part.b -= 0.5 * part.grad_b
"""


def _layer_rows(report: dict) -> dict[str, str]:
    return {f'{m["layer"]}.{m["param"]}': m["verdict"] for m in report["measurements"] if m["layer"] != "training step"}


def test_right_layers_run_by_calling_them_are_each_checked_and_clean(tmp_path: Path) -> None:
    for name, program, layers in (("calls.py", CALL_AND_BACK, {"Dense", "Scale"}), ("stack.py", CALL_AND_BACKWARD, {"FullyConnected", "LeakyRelu"})):
        report = check(planted(tmp_path, name, program, "import numpy as np", "import numpy as np"))
        assert errors(report) == [], (name, errors(report))
        rows = _layer_rows(report)
        assert {row.split(".")[0] for row in rows} >= layers, (name, rows)
        assert all(verdict == "ok" for verdict in rows.values()), (name, rows)


def test_a_layer_built_with_a_random_state_says_so_without_an_address(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "calls.py", CALL_AND_BACK, "import numpy as np", "import numpy as np"))
    dense = [b for b in report["built"] if b["what"] == "Dense"]
    assert dense and "RandomState(...)" in dense[0]["how"] and "0x" not in dense[0]["how"], report["built"]


def test_a_wrong_dx_of_a_layer_run_through_call_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "calls.py", CALL_AND_BACK, "return g * self.gamma * (1 - t ** 2)", "return g * self.gamma * (1 - t)")
    found = errors(check(path))
    assert found and found[0]["layer"] == "Scale" and found[0]["line"] == line_of(path, "return g * self.gamma * (1 - t)"), found


def test_a_wrong_row_scale_gradient_is_found(tmp_path: Path) -> None:
    path = planted(tmp_path, "calls.py", CALL_AND_BACK, "self.ggamma = np.sum(g * t, axis=0, keepdims=True)", "self.ggamma = np.sum(g, axis=0, keepdims=True)")
    found = errors(check(path))
    assert any(f["layer"] == "Scale" and f["param"] == "gamma" for f in found), found
    assert found[0]["line"] == line_of(path, "self.ggamma = np.sum(g, axis=0, keepdims=True)"), found[0]


def test_a_wrong_weight_gradient_of_a_called_layer_is_named_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "stack.py", CALL_AND_BACKWARD, "self.grad_W = self.inputs.T @ upstream", "self.grad_W = self.inputs.T @ upstream * 2")
    found = errors(check(path))
    assert found and found[0]["layer"] == "FullyConnected" and found[0]["param"] == "W", found
    assert found[0]["line"] == line_of(path, "self.grad_W = self.inputs.T @ upstream * 2"), found[0]
