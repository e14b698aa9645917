"""unshared-parameter: the exact finding for each way an update can miss the arrays the layers use.

Real files built from one small network (an Affine layer and a softmax loss, the book's style),
checked in-process by `check_file`: copies handed to a layer, an array drawn separately, an
update that climbs the loss through the loop variable, rebinding a `params` entry (an error when
a network shows the layers keep the old arrays, also when another network before it cannot even
be copied; a warning when no network was built), each message, fix, line and evidence pinned.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

RULE = "unshared-parameter"

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

TRAIN = """\
if __name__ == '__main__':
    net = Net(input_size=6, output_size=3)
    x, t = np.random.randn(20, 6), np.eye(3)[np.random.randint(0, 3, 20)]
    for i in range(10):
        grads = net.gradient(x, t)
        {update}
"""

SHARED = NET.format(W="self.params['W']", b="self.params['b']")
REBIND = "for key in ('W', 'b'):\n            net.params[key] = net.params[key] - 0.1 * grads[key]"


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def checked(tmp_path: Path, *parts: str):
    text = "\n\n".join(parts)
    path = tmp_path / "net.py"
    path.write_text(text, encoding="utf-8")
    return str(path), text, check_file(path, Options(training=False)).by_name(RULE)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def column_of(text: str, needle: str) -> int:
    line = text.splitlines()[line_of(text, needle) - 1]
    return line.index(needle) + 1


def test_copies_of_two_parameters_handed_to_one_layer_are_one_finding_on_that_line(tmp_path):
    path, text, [finding] = checked(tmp_path, LAYERS, NET.format(W="self.params['W'].copy()", b="self.params['b'].copy()"))
    line = line_of(text, "self.layers = [Affine(")
    assert (finding.severity, finding.layer, finding.param) == ("error", "Net", "W, b")
    assert (finding.file, finding.line, finding.column, finding.highlight) == (
        path, line, column_of(text, "self.params['W'].copy()"), (line,)
    )
    assert finding.message == (
        f"`Net.__init__` gives a copy of `self.params['W']` and `self.params['b']` to `layers` (line {line}): the "
        "layer computes with its own copies, so an in-place SGD step on `params` changes nothing it computes and "
        "the loss never goes down; pass `self.params['W']` and `self.params['b']` themselves"
    )
    assert finding.fix == "self.layers = [Affine(self.params['W'], self.params['b'])]"
    assert (finding.measured, finding.threshold) == (0.0, 1e-12)
    assert list(finding.evidence) == [
        ("identity", "params['W'] is not an array any layer uses; a copy is held by `layers[0].W`"),
        ("identity", "params['b'] is not an array any layer uses; a copy is held by `layers[0].b`"),
        (
            "in-place step",
            "params['W'] -= 0.1·u (u in [0.5, 1.5]): output changed by 0; "
            "params['b'] -= 0.1·u (u in [0.5, 1.5]): output changed by 0",
        ),
        ("gradient check", "numerical gradient of `W` is exactly zero while the analytic one is not"),
        ("gradient check", "numerical gradient of `b` is exactly zero while the analytic one is not"),
    ]


def test_a_copy_of_one_parameter_is_passed_itself(tmp_path):
    _, text, [finding] = checked(tmp_path, LAYERS, NET.format(W="self.params['W']", b="self.params['b'].copy()"))
    assert finding.param == "b"
    assert finding.message.endswith("; pass `self.params['b']` itself")
    assert "gives a copy of `self.params['b']` to `layers` (line " in finding.message


def test_a_separately_drawn_weight_is_an_array_of_its_own_pointed_at_init(tmp_path):
    path, text, [finding] = checked(
        tmp_path, LAYERS, NET.format(W="0.1 * np.random.randn(input_size, output_size)", b="self.params['b']")
    )
    init = line_of(text, "def __init__(self, input_size, output_size)")
    assert (finding.param, finding.file, finding.line, finding.column, finding.highlight) == ("W", path, init, None, (init,))
    assert finding.message == (
        "the layers of `Net` do not use the arrays in `Net.params` (`params['W']`): the layer computes with its "
        "own arrays, so an in-place SGD step on `params` changes nothing it computes and the loss never goes down; "
        "give the layers those very arrays"
    )
    assert finding.fix == "self.layers[...] = Layer(self.params['W'], ...)"
    assert list(finding.evidence) == [
        ("identity", "params['W'] is not an array any layer uses; `layers[0].W` has its shape but other values"),
        ("in-place step", "params['W'] -= 0.1·u (u in [0.5, 1.5]): output changed by 0"),
        ("gradient check", "numerical gradient of `W` is exactly zero while the analytic one is not"),
    ]


def test_climbing_through_the_loop_variable_is_fixed_with_plus_equals(tmp_path):
    update = "for p, g in zip(net.params.values(), grads.values()):\n            p = p + 0.1 * g"
    path, text, [finding] = checked(tmp_path, LAYERS, SHARED, TRAIN.format(update=update))
    line = line_of(text, "p = p + 0.1 * g")
    assert (finding.severity, finding.layer, finding.file, finding.line, finding.column, finding.highlight) == (
        "error", None, path, line, column_of(text, "p = p + 0.1 * g"), (line,)
    )
    assert finding.message == (
        f"the update of `p` changes only the loop variable (line {line}): `p = p + 0.1 * g` binds a new array to "
        "it, so the parameters never change and the loss never goes down; update it in place with `+=`"
    )
    assert finding.fix == "p += 0.1 * g"


def rebinding_error(path: str, text: str, network: str = "Net") -> dict:
    line = line_of(text, "net.params[key] = net.params[key]")
    return {
        "severity": "error", "layer": network, "file": path, "line": line,
        "column": column_of(text, "net.params[key] = net.params[key]"), "highlight": (line,),
        "measured": 0.0, "threshold": 1e-12,
        "message": (
            f"the update of `net.params[key]` binds a new array instead of changing it in place (line {line}): "
            "`net.params[key] = net.params[key] - 0.1 * grads[key]` replaces the entry, and the layers of "
            f"`{network}` keep computing with the old arrays (on a copy, its output did not change after this "
            "update), so the loss never goes down; update it in place with `-=`"
        ),
        "fix": "net.params[key] -= 0.1 * grads[key]",
        "evidence": (("rebinding step", f"params[k] = params[k] - 0.1·u on a copy of `{network}`: output unchanged"),),
    }  # fmt: skip


def fields(finding) -> dict:
    return {k: getattr(finding, k) for k in ("severity", "layer", "file", "line", "column", "highlight", "measured",
                                             "threshold", "message", "fix", "evidence")}  # fmt: skip


def test_rebinding_a_params_entry_of_a_network_whose_layers_keep_the_old_arrays_is_an_error(tmp_path):
    path, text, [finding] = checked(tmp_path, LAYERS, SHARED, TRAIN.format(update=REBIND))
    assert fields(finding) == rebinding_error(path, text)


def test_a_network_that_cannot_be_copied_before_it_does_not_hide_the_next_networks_evidence(tmp_path):
    fragile = SHARED.replace("class Net:", "class Fragile:") + (
        "\n    def __deepcopy__(self, memo):\n        raise RuntimeError('this network cannot be copied')\n"
    )
    path, text, [finding] = checked(tmp_path, LAYERS, fragile, SHARED, TRAIN.format(update=REBIND))
    assert text.index("class Fragile") < text.index("class Net")
    assert fields(finding) == rebinding_error(path, text)


def test_rebinding_an_entry_when_no_network_was_built_is_a_warning_without_evidence(tmp_path):
    text = (
        "import numpy as np\n\n\nclass Model:\n    def __init__(self):\n        self.params = {'W': np.zeros((3, 2))}\n\n\n"
        "model = Model()\ngrads = {'W': np.ones((3, 2))}\nfor step in range(3):\n    for key in model.params:\n"
        "        model.params[key] = model.params[key] - 0.1 * grads[key]\n"
    )
    path, text, [finding] = checked(tmp_path, text)
    line = line_of(text, "model.params[key] = ")
    assert (finding.severity, finding.layer, finding.line, finding.column, finding.measured, finding.threshold) == (
        "warning", None, line, column_of(text, "model.params[key] = "), None, None
    )
    assert finding.message == (
        f"the update of `model.params[key]` binds a new array instead of changing it in place (line {line}): "
        "`model.params[key] = model.params[key] - 0.1 * grads[key]` replaces the entry, and layers that were given "
        "the old arrays keep computing with them, so the loss never goes down; update it in place with `-=`"
    )
    assert (finding.fix, finding.evidence) == ("model.params[key] -= 0.1 * grads[key]", ())
