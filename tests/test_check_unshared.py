"""unshared-parameter (BPD401): `params` holds arrays the layers do not compute with.

Real files go through `pipeline.check_file`; one test drives `run(context)`
directly to show that the user's network comes out untouched.
"""

from __future__ import annotations

import sys
import textwrap
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from backprop_doctor import build
from backprop_doctor.checks import unshared_parameter
from backprop_doctor.context import CheckContext, SourceFile
from backprop_doctor.options import Options

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
RULE = "unshared-parameter"


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def diagnose(path: Path, **options):
    from backprop_doctor.pipeline import check_file

    report = check_file(path, Options(training=False, **options))
    problems = [f for f in report.findings if f.name in ("syntax-error", "load-error", "nothing-to-check", "build-failed")]
    assert not problems and "internal_errors" not in report.extras, (problems, report.extras.get("internal_errors"))
    return report


def write(folder: Path, *parts: str, name: str = "net.py") -> Path:
    path = folder / name
    path.write_text("\n".join(textwrap.dedent(part) for part in parts), encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


# --------------------------------------------------------------------------- samples


def test_reports_each_layer_that_was_given_copies():
    report = diagnose(SAMPLES / "unshared_params.py")
    found = report.by_name(RULE)
    assert [(f.line, f.param) for f in found] == [(81, "W1, b1"), (83, "W2, b2")]
    first = found[0]
    assert report.root_cause.key() == first.key()
    assert first.severity == "error" and first.layer == "TwoLayerNet" and first.column == 41
    assert "`self.params['W1']` and `self.params['b1']`" in first.message and "`Affine1`" in first.message
    assert first.fix == "self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])"
    assert first.measured == 0.0 and first.threshold == 1e-12
    evidence = [text for label, text in first.evidence]
    assert "params['W1'] is not an array any layer uses; a copy is held by `Affine1.W`" in evidence
    # the gradient engine saw the same bug: a numerical gradient of exactly zero
    assert any(label == "gradient check" for label, _ in first.evidence)


def test_reports_an_update_that_rebinds_the_params_entry():
    report = diagnose(SAMPLES / "rebinding_update.py")
    finding = report.by_name(RULE)[0]
    assert len(report.by_name(RULE)) == 1
    assert report.root_cause.key() == finding.key()
    assert (finding.line, finding.column, finding.severity) == (120, 9, "error")
    assert finding.fix == "network.params[key] -= learning_rate * grad[key]"
    assert "the layers of `TwoLayerNet` keep computing with the old arrays" in finding.message


@pytest.mark.parametrize(
    "sample",
    [
        "two_layer_net_fixed.py",
        "two_layer_net_batch_softmax.py",
        "batchnorm_dropout_fixed.py",
        "dlfs2_style.py",
        "dead_relu.py",  # dead units: an update changes nothing, yet the arrays are shared
        "batch_coupled.py",
    ],
)
def test_shared_parameters_are_not_reported(sample):
    assert diagnose(SAMPLES / sample).by_name(RULE) == []


# --------------------------------------------------------------------------- buggy and correct pairs

LAYERS = """\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x.dot(self.W) + self.b

    def backward(self, dout):
        self.dW = self.x.T.dot(dout)
        self.db = dout.sum(axis=0)
        return dout.dot(self.W.T)


class SoftmaxWithLoss:
    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y, self.t = e / e.sum(axis=1, keepdims=True), t
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]
"""

NET = """\
class Net:
    def __init__(self, input_size, output_size):
        self.params = {{'W': 0.1 * np.random.randn(input_size, output_size), 'b': np.zeros(output_size)}}
        self.layers = [Affine({W}, {b})]
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.layers[0].backward(self.lastLayer.backward(1))
        return {{'W': self.layers[0].dW, 'b': self.layers[0].db}}
"""

SCRIPT = """\
if __name__ == '__main__':
    net = Net(input_size=6, output_size=3)
    x, t = np.random.randn(20, 6), np.eye(3)[np.random.randint(0, 3, 20)]
    for i in range(10):
        grads = net.gradient(x, t)
        for p, g in zip(net.params.values(), grads.values()):
            p = p - 0.1 * g
"""


def test_reports_np_copy_handed_to_a_layer(tmp_path):
    path = write(tmp_path, LAYERS, NET.format(W="np.copy(self.params['W'])", b="self.params['b']"))
    finding = diagnose(path).by_name(RULE)[0]
    assert (finding.line, finding.param) == (line_of(path, "np.copy("), "W")
    assert finding.fix == "self.layers = [Affine(self.params['W'], self.params['b'])]"
    assert "`Net.__init__` gives a copy of `self.params['W']` to `layers`" in finding.message


def test_reports_a_layer_given_a_separately_drawn_weight(tmp_path):
    path = write(tmp_path, LAYERS, NET.format(W="0.1 * np.random.randn(input_size, output_size)", b="self.params['b']"))
    finding = diagnose(path).by_name(RULE)[0]
    assert (finding.param, finding.line) == ("W", line_of(path, "def __init__(self, input_size, output_size)"))
    assert "`layers[0].W` has its shape but other values" in dict(finding.evidence)["identity"]
    assert "do not use the arrays in `Net.params`" in finding.message


def test_shared_counterpart_is_not_reported(tmp_path):
    path = write(tmp_path, LAYERS, NET.format(W="self.params['W']", b="self.params['b']"))
    assert diagnose(path).by_name(RULE) == []


def test_reports_an_update_of_the_loop_variable(tmp_path):
    path = write(tmp_path, LAYERS, NET.format(W="self.params['W']", b="self.params['b']"), SCRIPT)
    finding = diagnose(path).by_name(RULE)[0]
    assert (finding.line, finding.severity) == (line_of(path, "p = p - 0.1 * g"), "error")
    assert finding.fix == "p -= 0.1 * g"
    assert "changes only the loop variable" in finding.message


def test_rebinding_is_fine_when_the_network_reads_params_itself(tmp_path):
    path = write(
        tmp_path,
        LAYERS,
        """\
        class Net:
            def __init__(self, input_size, output_size):
                self.params = {'W': 0.1 * np.random.randn(input_size, output_size), 'b': np.zeros(output_size)}
                self.lastLayer = SoftmaxWithLoss()

            def predict(self, x):
                return x.dot(self.params['W']) + self.params['b']

            def loss(self, x, t):
                return self.lastLayer.forward(self.predict(x), t)

            def gradient(self, x, t):
                self.loss(x, t)
                dout = self.lastLayer.backward(1)
                return {'W': x.T.dot(dout), 'b': dout.sum(axis=0)}


        if __name__ == '__main__':
            net = Net(input_size=6, output_size=3)
            x, t = np.random.randn(20, 6), np.eye(3)[np.random.randint(0, 3, 20)]
            for i in range(10):
                grads = net.gradient(x, t)
                for key in ('W', 'b'):
                    net.params[key] = net.params[key] - 0.1 * grads[key]
        """,
    )
    assert diagnose(path).by_name(RULE) == []


def test_a_network_whose_loss_is_infinite_is_not_called_unshared(tmp_path):
    path = write(
        tmp_path,
        LAYERS,
        """\
        class Net:
            def __init__(self, input_size, output_size):
                self.params = [1000.0 * np.random.randn(input_size, output_size)]
                self.grads = [np.zeros((input_size, output_size))]
                self.layers = []
                self.loss_layer = SoftmaxWithLoss()

            def forward(self, x, t):
                return self.loss_layer.forward(x.dot(self.params[0]), t)

            def backward(self, dout=1):
                self.grads[0][...] = 0.0


        if __name__ == '__main__':
            net = Net(input_size=6, output_size=3)
        """,
    )
    assert diagnose(path).by_name(RULE) == []


# --------------------------------------------------------------------------- the user's network stays untouched


class _Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x.dot(self.W) + self.b

    def backward(self, dout):
        self.dW, self.db = self.x.T.dot(dout), dout.sum(axis=0)
        return dout.dot(self.W.T)


class _Loss:
    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y, self.t = e / e.sum(axis=1, keepdims=True), t
        return -np.sum(t * np.log(self.y)) / len(x)

    def backward(self, dout=1):
        return dout * (self.y - self.t) / len(self.t)


class CopyingNet:
    def __init__(self):
        rng = np.random.default_rng(0)
        self.params = {"W1": rng.standard_normal((4, 3)), "b1": np.zeros(3)}
        self.layers = OrderedDict(Affine1=_Affine(self.params["W1"].copy(), self.params["b1"]))
        self.lastLayer = _Loss()

    def predict(self, x):
        return self.layers["Affine1"].forward(x)

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        self.layers["Affine1"].backward(self.lastLayer.backward())
        return {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db}


def test_run_leaves_the_users_network_and_random_state_alone():
    net = CopyingNet()
    saved = {k: v.copy() for k, v in net.params.items()}
    layer = net.layers["Affine1"]
    x = np.random.default_rng(2).standard_normal((5, 4))
    t = np.eye(3)[[0, 1, 2, 0, 1]]
    context = CheckContext(
        options=Options(),
        source=SourceFile(__file__, Path(__file__).read_text(encoding="utf-8")),
        networks=[build.Built("CopyingNet", net, "CopyingNet()", [("x (5, 4)", x, t)])],
    )
    np.random.seed(7)
    state = np.random.get_state()
    found = list(unshared_parameter.run(context))
    assert [(f.param, f.line) for f in found] == [("W1", CopyingNet.__init__.__code__.co_firstlineno + 3)]
    assert all(np.array_equal(net.params[k], saved[k]) for k in saved)
    assert net.layers["Affine1"] is layer and layer.b is net.params["b1"] and not hasattr(layer, "x")
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]
