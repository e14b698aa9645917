"""Programs whose layers hold each parameter as a small object, an array beside its gradient
(`self.W = Param(...)` with `.data`/`.value` and `.grad`), a loss object (`crit.forward(pred, y)`,
`crit.backward()`), a model running its layers backward in reverse and an optimizer object whose
`step()` moves `p.data` by `p.grad`: three layouts (a Sequential list, a dataclass `Param(value, grad)`
gathered by `params()`, layers holding `self.params = {"W": Param(...), ...}`).

Each layer is checked as a layer, its parameters' gradients read from `param.grad`; the training step
is replayed; a loop that never calls `zero_grad()` while the layers add into `.grad` is grad-not-zeroed.
The correct programs are clean; each mutant gets an error at its planted line, naming the layer and the
parameter. Every file is checked by one run of the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SEQUENTIAL = '''
import numpy as np

np.random.seed(0)


class Param:
    def __init__(self, data):
        self.data = data
        self.grad = np.zeros_like(data)


class Linear:
    def __init__(self, n_in, n_out):
        self.W = Param(np.random.randn(n_in, n_out) * 0.1)
        self.b = Param(np.zeros(n_out))

    def forward(self, x):
        self.x = x
        return x @ self.W.data + self.b.data

    def backward(self, dout):
        self.W.grad += self.x.T @ dout
        self.b.grad += dout.sum(axis=0)
        return dout @ self.W.data.T

    def parameters(self):
        return [self.W, self.b]


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask

    def parameters(self):
        return []


class SoftmaxCrossEntropy:
    def forward(self, logits, y):
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        self.p = e / e.sum(axis=1, keepdims=True)
        self.y = y
        return -np.log(self.p[np.arange(len(y)), y]).mean()

    def backward(self):
        d = self.p.copy()
        d[np.arange(len(self.y)), self.y] -= 1
        return d / len(self.y)


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, d):
        for layer in reversed(self.layers):
            d = layer.backward(d)
        return d

    def parameters(self):
        ps = []
        for layer in self.layers:
            ps.extend(layer.parameters())
        return ps


class SGD:
    def __init__(self, params, lr):
        self.params = params
        self.lr = lr

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0.0

    def step(self):
        for p in self.params:
            p.data -= self.lr * p.grad


X = np.random.randn(200, 4)
y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)

model = Sequential([Linear(4, 16), ReLU(), Linear(16, 3)])
crit = SoftmaxCrossEntropy()
opt = SGD(model.parameters(), lr=0.5)

for epoch in range(200):
    opt.zero_grad()
    pred = model.forward(X)
    loss = crit.forward(pred, y)
    dpred = crit.backward()
    model.backward(dpred)
    opt.step()
    if epoch % 50 == 0:
        print(epoch, loss)
'''

DATACLASS = '''
from dataclasses import dataclass

import numpy as np

rng = np.random.default_rng(1)


@dataclass
class Param:
    value: np.ndarray
    grad: np.ndarray = None

    def __post_init__(self):
        self.grad = np.zeros_like(self.value)


class Dense:
    def __init__(self, fan_in, fan_out):
        self.w = Param(rng.normal(size=(fan_in, fan_out)) * 0.1)
        self.b = Param(np.zeros((1, fan_out)))

    def forward(self, x):
        self.inp = x
        return x @ self.w.value + self.b.value

    def backward(self, g):
        self.w.grad = self.inp.T @ g
        self.b.grad = g.sum(axis=0, keepdims=True)
        return g @ self.w.value.T


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, g):
        return g * (1 - self.out ** 2)


class MSELoss:
    def forward(self, pred, target):
        self.diff = pred - target
        return np.mean(self.diff ** 2)

    def grad(self):
        return 2 * self.diff / self.diff.size


class MLP:
    def __init__(self, sizes):
        self.layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            self.layers.append(Dense(a, b))
            self.layers.append(Tanh())
        self.layers.pop()

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, g):
        for layer in self.layers[::-1]:
            g = layer.backward(g)

    def params(self):
        out = []
        for layer in self.layers:
            if isinstance(layer, Dense):
                out += [layer.w, layer.b]
        return out


class SGD:
    def __init__(self, params, lr=0.1):
        self.params = params
        self.lr = lr

    def step(self):
        for p in self.params:
            p.value -= self.lr * p.grad


X = rng.uniform(-1, 1, size=(128, 2))
Y = np.sin(3 * X[:, :1]) * X[:, 1:]

model = MLP([2, 32, 32, 1])
loss_fn = MSELoss()
opt = SGD(model.params(), lr=0.1)

for it in range(500):
    out = model.forward(X)
    loss = loss_fn.forward(out, Y)
    model.backward(loss_fn.grad())
    opt.step()
    if it % 100 == 0:
        print(it, loss)
'''

DICT = '''
import numpy as np

np.random.seed(3)


class Parameter:
    def __init__(self, data):
        self.data = data
        self.grad = np.zeros_like(data)


class Linear:
    def __init__(self, i, o):
        self.params = {"W": Parameter(np.random.randn(i, o) * np.sqrt(2.0 / i)),
                       "b": Parameter(np.zeros(o))}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"].data + self.params["b"].data

    def backward(self, dy):
        self.params["W"].grad += self.x.T @ dy
        self.params["b"].grad += np.sum(dy, axis=0)
        return dy @ self.params["W"].data.T


class ReLU:
    def __init__(self):
        self.params = {}

    def forward(self, x):
        self.x = x
        return np.maximum(0, x)

    def backward(self, dy):
        return dy * (self.x > 0)


class CrossEntropy:
    def forward(self, logits, labels):
        shifted = logits - np.max(logits, axis=1, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        self.probs = np.exp(logp)
        self.labels = labels
        return -np.mean(logp[np.arange(len(labels)), labels])

    def backward(self):
        g = self.probs.copy()
        g[np.arange(len(self.labels)), self.labels] -= 1
        return g / len(self.labels)


class Network:
    def __init__(self, sizes):
        self.layers = []
        for i, o in zip(sizes[:-1], sizes[1:]):
            self.layers += [Linear(i, o), ReLU()]
        self.layers.pop()

    def forward(self, x):
        for l in self.layers:
            x = l.forward(x)
        return x

    def backward(self, dy):
        for l in reversed(self.layers):
            dy = l.backward(dy)
        return dy

    def parameters(self):
        return [p for l in self.layers for p in l.params.values()]


class SGD:
    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = lr

    def zero_grad(self):
        for p in self.params:
            p.grad = np.zeros_like(p.data)

    def step(self):
        for p in self.params:
            p.data -= self.lr * p.grad


X = np.random.randn(300, 6)
y = np.argmax(X @ np.random.randn(6, 4), axis=1)
net = Network([6, 20, 20, 4])
crit = CrossEntropy()
opt = SGD(net.parameters(), lr=0.1)

for epoch in range(30):
    perm = np.random.permutation(len(X))
    for s in range(0, len(X), 32):
        idx = perm[s:s + 32]
        opt.zero_grad()
        pred = net.forward(X[idx])
        loss = crit.forward(pred, y[idx])
        net.backward(crit.backward())
        opt.step()
    print(epoch, loss)
'''

SQUARE = ("net = Network([6, 20, 20, 4])", "net = Network([6, 6, 6, 6])")  # a transposed weight gradient still runs

# file name -> (program, edits, the planted statement or None for a correct program)
PROGRAMS: dict[str, tuple[str, tuple[tuple[str, str], ...], str | None]] = {
    "sequential.py": (SEQUENTIAL, (), None),
    "sequential_bias_axis.py": (SEQUENTIAL, (("self.b.grad += dout.sum(axis=0)", "self.b.grad += dout.sum()"),), "self.b.grad += dout.sum()"),
    "sequential_relu_mask.py": (SEQUENTIAL, (("return dout * self.mask", "return dout * (dout > 0)"),), "return dout * (dout > 0)"),
    "sequential_no_zero_grad.py": (SEQUENTIAL, (("    opt.zero_grad()\n", ""),), None),
    "dataclass.py": (DATACLASS, (), None),
    "dataclass_bias_axis.py": (DATACLASS, (("self.b.grad = g.sum(axis=0, keepdims=True)", "self.b.grad = g.sum(keepdims=True)"),), "self.b.grad = g.sum(keepdims=True)"),
    "dataclass_square.py": (DATACLASS, (("MLP([2, 32, 32, 1])", "MLP([2, 2, 2, 2])"), ("Y = np.sin(3 * X[:, :1]) * X[:, 1:]", "Y = np.sin(3 * X) * X[:, ::-1]")), None),
    "dataclass_transpose.py": (
        DATACLASS,
        (("MLP([2, 32, 32, 1])", "MLP([2, 2, 2, 2])"), ("Y = np.sin(3 * X[:, :1]) * X[:, 1:]", "Y = np.sin(3 * X) * X[:, ::-1]"),
         ("self.w.grad = self.inp.T @ g", "self.w.grad = g.T @ self.inp")),
        "self.w.grad = g.T @ self.inp",
    ),
    "dataclass_added_never_zeroed.py": (
        DATACLASS,
        (("self.w.grad = self.inp.T @ g", "self.w.grad += self.inp.T @ g"), ("self.b.grad = g.sum(axis=0, keepdims=True)", "self.b.grad += g.sum(axis=0, keepdims=True)")),
        None,
    ),
    "dict.py": (DICT, (), None),
    "dict_square.py": (DICT, (SQUARE,), None),
    "dict_bias_axis.py": (DICT, (('self.params["b"].grad += np.sum(dy, axis=0)', 'self.params["b"].grad += np.sum(dy)'),), 'self.params["b"].grad += np.sum(dy)'),
    "dict_transpose.py": (DICT, (SQUARE, ('self.params["W"].grad += self.x.T @ dy', 'self.params["W"].grad += dy.T @ self.x')), 'self.params["W"].grad += dy.T @ self.x'),
    "dict_relu_mask.py": (DICT, (("return dy * (self.x > 0)", "return dy * (dy > 0)"),), "return dy * (dy > 0)"),
    "dict_no_zero_grad.py": (DICT, (("        opt.zero_grad()\n", ""),), None),
}

# the loss object's value used unnamed: added to a total, appended to a list, read from the object later
LOOP = """for epoch in range(200):
    opt.zero_grad()
    pred = model.forward(X)
    loss = crit.forward(pred, y)
    dpred = crit.backward()
    model.backward(dpred)
    opt.step()
    if epoch % 50 == 0:
        print(epoch, loss)"""
UNNAMED = {
    "total": """for epoch in range(20):
    total = 0.0
    for i in range(0, 200, 40):
        opt.zero_grad()
        pred = model.forward(X[i:i + 40])
        total += crit.forward(pred, y[i:i + 40])
        model.backward(crit.backward())
        opt.step()
    print(epoch, total / 5)""",
    "appended": """history = []
for epoch in range(200):
    opt.zero_grad()
    history.append(crit.forward(model.forward(X), y))
    model.backward(crit.backward())
    opt.step()
print(history[0], history[-1])""",
    "kept": """for epoch in range(200):
    opt.zero_grad()
    crit.forward(model.forward(X), y)
    model.backward(crit.backward())
    opt.step()
    if epoch % 50 == 0:
        print(epoch, crit.value)""",
}
KEPT = ("        return -np.log(self.p[np.arange(len(y)), y]).mean()", "        self.value = -np.log(self.p[np.arange(len(y)), y]).mean()\n        return self.value")
for kind, loop in UNNAMED.items():
    edits = ((LOOP, loop), *((KEPT,) if kind == "kept" else ()))
    PROGRAMS[f"unnamed_{kind}.py"] = (SEQUENTIAL, edits, None)
    reset = "        opt.zero_grad()\n" if kind == "total" else "    opt.zero_grad()\n"
    PROGRAMS[f"unnamed_{kind}_no_zero_grad.py"] = (SEQUENTIAL, (*edits, (reset, "")), None)

# a loss object returning its loss as a parameter object, and parameter objects with `__slots__`
PROGRAMS["loss_as_param.py"] = (
    SEQUENTIAL,
    (("        return -np.log(self.p[np.arange(len(y)), y]).mean()", "        return Param(np.array(-np.log(self.p[np.arange(len(y)), y]).mean()))"),
     ("        print(epoch, loss)", "        print(epoch, float(loss.data))")),
    None,
)
SLOTS = ("class Param:\n", 'class Param:\n    __slots__ = ("data", "grad")\n\n')
PROGRAMS["slots.py"] = (SEQUENTIAL, (SLOTS,), None)
PROGRAMS["slots_bias_axis.py"] = (SEQUENTIAL, (SLOTS, ("self.b.grad += dout.sum(axis=0)", "self.b.grad += dout.sum()")), "self.b.grad += dout.sum()")

# the same unnamed loss in a book-style program of plain arrays (`self.dW`), its loop stepping the layers itself
BOOK = """
import numpy as np

np.random.seed(5)


class Affine:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class SoftmaxWithLoss:
    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        self.t = t
        return -np.mean(np.log(self.y[np.arange(len(t)), t]))

    def backward(self):
        d = self.y.copy()
        d[np.arange(len(self.t)), self.t] -= 1
        return d / len(self.t)


X = np.random.randn(240, 3)
t = (X[:, 0] * X[:, 1] > 0).astype(int)
layers = [Affine(3, 12), Sigmoid(), Affine(12, 2)]
last = SoftmaxWithLoss()
lr = 0.5

for epoch in range(30):
    total = 0.0
    for i in range(0, 240, 48):
        h = X[i:i + 48]
        for layer in layers:
            h = layer.forward(h)
        total += last.forward(h, t[i:i + 48])
        d = last.backward()
        for layer in reversed(layers):
            d = layer.backward(d)
        for layer in (layers[0], layers[2]):
            layer.W -= lr * layer.dW
            layer.b -= lr * layer.db
    print(epoch, total / 5)
"""
CLIMB = ("            layer.b -= lr * layer.db", "            layer.b += lr * layer.db")
PROGRAMS["book_total.py"] = (BOOK, (), None)
PROGRAMS["book_total_climbing_bias.py"] = (BOOK, (CLIMB,), CLIMB[1].strip())


def _program(text: str, edits: tuple[tuple[str, str], ...]) -> str:
    text = textwrap.dedent(text).lstrip()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """Every program written to one folder and checked by one run of the CLI: {name: (path, report)}."""
    folder = tmp_path_factory.mktemp("param_objects")
    paths = {}
    for name, (text, edits, _) in PROGRAMS.items():
        paths[name] = folder / name
        paths[name].write_text(_program(text, edits), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", "--format", "json", "--no-training", "-j", "2", *map(str, paths.values())],
        capture_output=True, text=True, encoding="utf-8", env={**os.environ, "NO_COLOR": "1"}, timeout=900, cwd=folder,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    files = {Path(f["file"]).name: f for f in json.loads(result.stdout)["files"]}
    return {name: (path, files[name]) for name, path in paths.items()}


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def _errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def _measured(report: dict, layer: str) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


CORRECT = [name for name, (_, _, planted) in PROGRAMS.items() if planted is None and "no_zero_grad" not in name and "never_zeroed" not in name]


@pytest.mark.parametrize("name", CORRECT)
def test_a_correct_program_is_clean_and_its_training_step_checked(reports, name):
    _, report = reports[name]
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
    step = _measured(report, "training step")
    assert step and set(step.values()) == {"ok"}, report["measurements"]


@pytest.mark.parametrize(
    ("name", "layer", "params"),
    [
        ("sequential.py", "Linear", {"x", "W", "b"}),
        ("dataclass.py", "Dense", {"x", "w", "b"}),
        ("dict.py", "Linear", {"x", "W", "b"}),
        ("slots.py", "Linear", {"x", "W", "b"}),
    ],
)
def test_a_layers_parameter_objects_are_checked_through_their_grad(reports, name, layer, params):
    """`W.data` against `W.grad`: the layer's own check compares its parameters, not its input alone."""
    _, report = reports[name]
    assert _measured(report, layer) == {p: "ok" for p in params}


@pytest.mark.parametrize(
    ("name", "layer", "param", "code"),
    [
        ("sequential_bias_axis.py", "Linear", "b", "BPD101"),
        ("dataclass_bias_axis.py", "Dense", "b", "BPD102"),
        ("dataclass_transpose.py", "Dense", "w", "BPD101"),
        ("dict_bias_axis.py", "Linear", "b", "BPD101"),
        ("dict_transpose.py", "Linear", "W", "BPD101"),
        ("slots_bias_axis.py", "Linear", "b", "BPD101"),
    ],
)
def test_a_wrong_parameter_gradient_is_an_error_at_its_planted_line(reports, name, layer, param, code):
    path, report = reports[name]
    planted = PROGRAMS[name][2]
    (error,) = _errors(report)
    assert (error["code"], error["layer"], error["param"], error["line"]) == (code, layer, param, _line(path, planted))
    assert _measured(report, layer)[param] != "ok"
    assert report["findings"][report["root_cause"]]["key"] == error["key"]


@pytest.mark.parametrize("name", ["sequential_relu_mask.py", "dict_relu_mask.py"])
def test_a_wrong_relu_mask_is_the_root_error_at_its_line(reports, name):
    path, report = reports[name]
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["layer"], root["param"], root["line"]) == ("BPD101", "ReLU", "x", _line(path, PROGRAMS[name][2]))


@pytest.mark.parametrize(
    ("name", "reset"),
    [
        ("sequential_no_zero_grad.py", "`opt.zero_grad()`"),
        ("dict_no_zero_grad.py", "`opt.zero_grad()`"),
        ("dataclass_added_never_zeroed.py", "`for p in opt.params: p.grad[...] = 0.0`"),
        ("unnamed_total_no_zero_grad.py", "`opt.zero_grad()`"),
        ("unnamed_appended_no_zero_grad.py", "`opt.zero_grad()`"),
        ("unnamed_kept_no_zero_grad.py", "`opt.zero_grad()`"),
    ],
)
def test_a_loop_that_never_zeroes_the_added_gradients_is_grad_not_zeroed(reports, name, reset):
    """The layers add into `.grad`; the loop never empties it: the error is at the model's backward
    call, with the reset the file's optimizer offers; the layers themselves stay right."""
    path, report = reports[name]
    (error,) = _errors(report)
    backward = _line(path, "net.backward(" if name.startswith("dict") else "model.backward(")
    assert (error["code"], error["name"], error["line"]) == ("BPD207", "grad-not-zeroed", backward)
    assert error["message"].endswith(f"write {reset} before line {backward}")
    assert all(v == "ok" for layer in ("Linear", "Dense") for v in _measured(report, layer).values())
    assert any(v != "ok" for v in _measured(report, "training step").values())


def test_a_layer_assigning_its_gradient_needs_no_reset(reports):
    """`self.w.grad = ...` in the dataclass program: its loop calls no `zero_grad()` and needs none."""
    _, report = reports["dataclass.py"]
    assert not [f for f in report["findings"] if f["name"] == "grad-not-zeroed"]


def test_a_book_style_step_whose_loss_is_added_to_a_total_is_replayed(reports):
    """`total += last.forward(h, t[i:i + 48])`: the pass's loss is that call, read again after the pass's
    forward and backward; an update that climbs along the biases' gradient is then an error at its line."""
    path, report = reports["book_total_climbing_bias.py"]
    (error,) = _errors(report)
    assert (error["code"], error["line"]) == ("BPD108", _line(path, PROGRAMS["book_total_climbing_bias.py"][2]))
    assert _measured(report, "training step") == {"layers[0].W": "ok", "layers[0].b": "mismatch", "layers[2].W": "ok", "layers[2].b": "mismatch"}
