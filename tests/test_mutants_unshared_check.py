"""unshared-parameter (BPD401): the cases its mutation run showed no test telling apart.

Real user files written to `tmp_path` and checked in-process by `check_file`: a network whose
ReLU is dead (its layers use the very arrays, yet no update changes the output), a network
whose tiny outputs change by far less than 1e-12 in absolute terms (the change is relative
to each output), layers that keep their parameters in a `params` list (the book
"Deep Learning from Scratch 2" style), two separately drawn arrays named in one finding, and
a rebinding update that climbs the loss. Each buggy file has a correct twin; every line number
is found in the file's text.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_unshared_parameter_findings import LAYERS as BOOK_LAYERS

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

RULE = "unshared-parameter"

RELU = """

class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout
"""
LAYERS = BOOK_LAYERS + RELU  # an Affine layer and a softmax loss (the book's style), and a ReLU


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def checked(tmp_path: Path, *parts: str):
    """(path, text, the file's unshared-parameter findings); no check may have crashed on it."""
    text = "\n\n".join(parts)
    path = tmp_path / "net.py"
    path.write_text(text, encoding="utf-8")
    report = check_file(path, Options(training=False))
    assert "internal_errors" not in report.extras, report.extras.get("internal_errors")
    return str(path), text, report.by_name(RULE)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def column_of(text: str, needle: str) -> int:
    return text.splitlines()[line_of(text, needle) - 1].index(needle) + 1


# --------------------------------------------------------------------------- arrays the layers do use


DEAD = """\
class MomentumAffine(Affine):
    def __init__(self, W, b):
        super().__init__(W, b)
        self.vW, self.vb = np.zeros_like(W), np.zeros_like(b)


class Net:
    def __init__(self, input_size, hidden_size, output_size):
        self.params = {'W1': 0.1 * np.random.randn(input_size, hidden_size), 'b1': np.full(hidden_size, BIAS),
                       'W2': 0.1 * np.random.randn(hidden_size, output_size), 'b2': np.zeros(output_size)}
        self.layers = [MomentumAffine(FIRST, self.params['b1']), Relu(),
                       MomentumAffine(self.params['W2'], self.params['b2'])]
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return {'W1': self.layers[0].dW, 'b1': self.layers[0].db, 'W2': self.layers[2].dW, 'b2': self.layers[2].db}
"""


@pytest.mark.parametrize("first", ["self.params['W1']", "self.params['W1'][:]"])
@pytest.mark.parametrize("bias", ["-100.0", "0.0"])
def test_layers_that_use_the_very_arrays_are_not_reported_even_when_a_dead_relu_hides_every_update(tmp_path, bias, first):
    """With a bias of -100 no update of W1, b1 or W2 changes the output (the ReLU is dead), and
    the layers hold other arrays of their shapes (momentum buffers): still the arrays are shared,
    also when the first layer got a view of W1 (`W1[:]`, another object on the same memory, which
    a deep copy of the network would separate from W1)."""
    assert checked(tmp_path, LAYERS, DEAD.replace("BIAS", bias).replace("FIRST", first))[2] == []


TINY = """\
class Net:
    def __init__(self, input_size, output_size):
        self.params = {'W': 0.1 * np.random.randn(input_size, output_size), 'b': np.zeros(output_size)}
        self.layers = [Affine(self.params['W'].copy(), self.params['b'].copy())]
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        return PREDICT

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        self.layers[0].x = x
        self.layers[0].backward(self.lastLayer.backward(1))
        return {'W': self.layers[0].dW, 'b': self.layers[0].db}
"""


def test_a_network_computing_with_params_itself_is_not_reported_however_tiny_its_outputs(tmp_path):
    """Its predict reads `self.params` but scales its scores to about 1e-14: a step changes them by
    a large part of their size, though by far less than 1e-12 in absolute terms, and the loss by
    less still; the layer's stale copies are never used."""
    predict = "1e-14 * (x.dot(self.params['W']) + self.params['b'])"
    assert checked(tmp_path, LAYERS, TINY.replace("PREDICT", predict))[2] == []


def test_the_same_tiny_network_computing_with_its_layers_copies_is_reported(tmp_path):
    path, text, [finding] = checked(tmp_path, LAYERS, TINY.replace("PREDICT", "1e-14 * self.layers[0].forward(x)"))
    line = line_of(text, "self.layers = [Affine(")
    assert (finding.param, finding.file, finding.line, finding.column) == (
        "W, b", path, line, column_of(text, "self.params['W'].copy()")
    )
    assert dict(finding.evidence)["in-place step"] == (
        "params['W'] -= 0.1·u (u in [0.5, 1.5]): output changed by 0; "
        "params['b'] -= 0.1·u (u in [0.5, 1.5]): output changed by 0"
    )


# --------------------------------------------------------------------------- the words of a finding


SEPARATE = """\
class Net:
    def __init__(self, input_size, output_size):
        self.params = {'W': 0.1 * np.random.randn(input_size, output_size), 'b': np.zeros(output_size)}
        self.layers = [Affine(0.1 * np.random.randn(input_size, output_size), np.zeros(output_size))]
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        self.layers[0].backward(self.lastLayer.backward(1))
        return {'W': self.layers[0].dW, 'b': self.layers[0].db}
"""


def test_two_arrays_of_the_layers_own_are_named_together_with_what_each_holder_is(tmp_path):
    """The layer's W was drawn separately (other values); its b is zeros like the parameter's
    (equal values: a copy in all but name). Neither is handed over as `.copy()`: the finding is
    at `__init__`."""
    path, text, [finding] = checked(tmp_path, LAYERS, SEPARATE)
    init = line_of(text, "def __init__(self, input_size, output_size)")
    assert (finding.severity, finding.layer, finding.param) == ("error", "Net", "W, b")
    assert (finding.file, finding.line, finding.column, finding.highlight) == (path, init, None, (init,))
    assert finding.message == (
        "the layers of `Net` do not use the arrays in `Net.params` (`params['W']`, `params['b']`): the layer "
        "computes with its own arrays, so an in-place SGD step on `params` changes nothing it computes and the "
        "loss never goes down; give the layers those very arrays"
    )
    assert finding.fix == "self.layers[...] = Layer(self.params['W'], ...)"
    assert list(finding.evidence) == [
        ("identity", "params['W'] is not an array any layer uses; `layers[0].W` has its shape but other values"),
        ("identity", "params['b'] is not an array any layer uses; a copy is held by `layers[0].b`"),
        (
            "in-place step",
            "params['W'] -= 0.1·u (u in [0.5, 1.5]): output changed by 0; "
            "params['b'] -= 0.1·u (u in [0.5, 1.5]): output changed by 0",
        ),
        ("gradient check", "numerical gradient of `W` is exactly zero while the analytic one is not"),
        ("gradient check", "numerical gradient of `b` is exactly zero while the analytic one is not"),
    ]


SHARED = SEPARATE.replace(
    "Affine(0.1 * np.random.randn(input_size, output_size), np.zeros(output_size))",
    "Affine(self.params['W'], self.params['b'])",
)

TRAIN = """\
if __name__ == '__main__':
    net = Net(input_size=6, output_size=3)
    x, t = np.random.randn(20, 6), np.eye(3)[np.random.randint(0, 3, 20)]
    for i in range(10):
        grads = net.gradient(x, t)
        for key in ('W', 'b'):
            {update}
"""


def test_a_rebinding_update_that_climbs_is_fixed_in_place_with_plus_equals(tmp_path):
    update = "net.params[key] = net.params[key] + 0.1 * grads[key]"
    path, text, [finding] = checked(tmp_path, LAYERS, SHARED, TRAIN.format(update=update))
    line = line_of(text, update)
    assert (finding.severity, finding.layer, finding.line, finding.column) == ("error", "Net", line, column_of(text, update))
    assert finding.message == (
        f"the update of `net.params[key]` binds a new array instead of changing it in place (line {line}): "
        f"`{update}` replaces the entry, and the layers of `Net` keep computing with the old arrays (on a copy, "
        "its output did not change after this update), so the loss never goes down; update it in place with `+=`"
    )
    assert finding.fix == "net.params[key] += 0.1 * grads[key]"


def test_the_in_place_twin_of_the_climbing_update_is_not_reported(tmp_path):
    assert checked(tmp_path, LAYERS, SHARED, TRAIN.format(update="net.params[key] += 0.1 * grads[key]"))[2] == []


# --------------------------------------------------------------------------- parameters kept in lists


LIST_LAYERS = """\
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        W, b = self.params
        self.x = x
        return np.dot(x, W) + b

    def backward(self, dout):
        W, b = self.params
        self.grads[0][...] = np.dot(self.x.T, dout)
        self.grads[1][...] = np.sum(dout, axis=0)
        return np.dot(dout, W.T)


class SoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y, self.t = e / e.sum(axis=1, keepdims=True), t
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class TwoLayerNet:
    def __init__(self, input_size, output_size):
        W = 0.01 * np.random.randn(input_size, output_size)
        b = np.zeros(output_size)
        self.params = [W, b]
        self.layers = [Affine({W}, b)]
        self.loss_layer = SoftmaxWithLoss()
        self.grads = self.layers[0].grads

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def forward(self, x, t):
        return self.loss_layer.forward(self.predict(x), t)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
"""


def test_a_copy_in_a_layers_params_list_is_named_by_its_index_and_the_layers_own_name(tmp_path):
    path, text, [finding] = checked(tmp_path, LIST_LAYERS.format(W="W.copy()"))
    init = line_of(text, "def __init__(self, input_size, output_size)")
    assert (finding.layer, finding.param, finding.file, finding.line, finding.highlight) == (
        "TwoLayerNet", "params[0]", path, init, (init,)
    )
    assert finding.message == (
        "the layers of `TwoLayerNet` do not use the arrays in `TwoLayerNet.params` (`params[0]`): the layer computes "
        "with its own copies, so an in-place SGD step on `params` changes nothing it computes and the loss never "
        "goes down; give the layers those very arrays"
    )
    assert finding.fix == "self.layers[...] = Layer(self.params[0], ...)"
    assert list(finding.evidence) == [
        ("identity", "params[0] is not an array any layer uses; a copy is held by `layers[0].W`"),
        ("in-place step", "params[0] -= 0.1·u (u in [0.5, 1.5]): output changed by 0"),
        ("gradient check", "numerical gradient of `params[0]` is exactly zero while the analytic one is not"),
    ]


def test_layers_given_the_list_networks_very_arrays_are_not_reported(tmp_path):
    assert checked(tmp_path, LIST_LAYERS.format(W="W"))[2] == []


def test_a_copy_of_a_list_entry_handed_over_in_init_is_named_at_that_line(tmp_path):
    path, text, [finding] = checked(tmp_path, LIST_LAYERS.format(W="self.params[0].copy()"))
    line = line_of(text, "self.layers = [Affine(")
    assert (finding.param, finding.line, finding.column, finding.highlight) == (
        "params[0]", line, column_of(text, "self.params[0].copy()"), (line,)
    )
    assert finding.message == (
        f"`TwoLayerNet.__init__` gives a copy of `self.params[0]` to `layers` (line {line}): the layer computes "
        "with its own copies, so an in-place SGD step on `params` changes nothing it computes and the loss never "
        "goes down; pass `self.params[0]` itself"
    )
    assert finding.fix == "self.layers = [Affine(self.params[0], b)]"


# --------------------------------------------------------------------------- a replayed program without a network


HELD_ONCE = """\
import numpy as np


class Model:
    def __init__(self, n):
        self.params = {'W': np.zeros((n, 1)), 'b': np.zeros(1)}
        self.W = self.params['W']

    def predict(self, X):
        return X @ PREDICT + self.params['b']


np.random.seed(0)
X = np.random.randn(32, 4)
y = X @ np.array([[1.0], [2.0], [-1.0], [0.5]])
model = Model(4)
for epoch in range(20):
    pred = model.predict(X)
    loss = np.mean((pred - y) ** 2)
    dpred = 2 * (pred - y) / len(X)
    grads = {'W': X.T @ dpred, 'b': dpred.sum(axis=0)}
    for key in model.params:
        model.params[key] = model.params[key] - 0.1 * grads[key]
"""


def replayed(tmp_path: Path, text: str):
    """The check run on the program's replayed first step, in this process (as the pipeline does in
    its child process, where the program may run)."""
    import numpy as np

    from backprop_doctor.checks import unshared_parameter
    from backprop_doctor.context import CheckContext
    from backprop_doctor.loading.source import read_source
    from backprop_doctor.replay import replay_file

    path = tmp_path / "train.py"
    path.write_text(text, encoding="utf-8")
    state = np.random.get_state()
    try:
        source, _ = read_source(str(path))
        context = CheckContext(options=Options(training=False), source=source)
        context.extras["replay"] = replay_file(source, 10.0, seed=0, curve=False, measure=True)
        return str(path), list(unshared_parameter.run(context))
    finally:
        np.random.set_state(state)


def test_rebinding_entries_that_only_params_holds_and_the_model_reads_is_a_valid_update(tmp_path):
    assert replayed(tmp_path, HELD_ONCE.replace("PREDICT", "self.params['W']"))[1] == []


def test_rebinding_an_entry_the_model_does_not_read_through_params_is_a_warning(tmp_path):
    """The model computes with `self.W`, bound once to the first `W`: after the first rebinding
    update it never changes (the replay measures the update of `W` as unused)."""
    text = HELD_ONCE.replace("PREDICT", "self.W")
    path, [finding] = replayed(tmp_path, text)
    line = line_of(text, "model.params[key] = ")
    assert (finding.severity, finding.file, finding.line, finding.layer) == ("warning", path, line, None)
    assert finding.fix == "model.params[key] -= 0.1 * grads[key]"


THREE = """\
class ScaledAffine:
    def __init__(self, W, b, gamma):
        self.W, self.b, self.g = W, b, gamma

    def forward(self, x):
        self.x = x
        self.z = x.dot(self.W) + self.b
        return self.z * self.g

    def backward(self, dout):
        dz = dout * self.g
        self.dg = (dout * self.z).sum(axis=0)
        self.dW = self.x.T.dot(dz)
        self.db = dz.sum(axis=0)
        return dz.dot(self.W.T)


class Net:
    def __init__(self, input_size, hidden_size):
        self.params = {'W': 0.1 * np.random.randn(input_size, hidden_size), 'b': np.zeros(hidden_size), 'g': np.ones(hidden_size)}
        self.layers = [ScaledAffine(self.params['W'].copy(), self.params['b'].copy(), self.params['g'].copy()),
                       Affine(0.1 * np.random.randn(hidden_size, hidden_size), np.zeros(hidden_size))]
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        first = self.layers[0]
        return {'W': first.dW, 'b': first.db, 'g': first.dg}
"""


def test_three_copies_in_one_statement_are_listed_with_commas_and_and(tmp_path):
    """One statement copies W, b and g; a second layer happens to hold an array of b's shape and
    values (zeros) too, and g's shape is b's: each identity line lists every holder."""
    path, text, [finding] = checked(tmp_path, LAYERS, THREE)
    line = line_of(text, "self.layers = [ScaledAffine(")
    assert (finding.param, finding.line) == ("W, b, g", line)
    keys = "`self.params['W']`, `self.params['b']` and `self.params['g']`"
    assert finding.message == (
        f"`Net.__init__` gives a copy of {keys} to `layers` (line {line}): the layer computes with its "
        "own copies, so an in-place SGD step on `params` changes nothing it computes and the loss never goes down; "
        f"pass {keys} themselves"
    )  # the statement hands `.copy()`s, though some of the holders listed below are not copies
    identity = [text for label, text in finding.evidence if label == "identity"]
    assert identity == [
        "params['W'] is not an array any layer uses; a copy is held by `layers[0].W`",
        "params['b'] is not an array any layer uses; a copy is held by `layers[0].b`, `layers[1].b`; "
        "`layers[0].g` has its shape but other values",
        "params['g'] is not an array any layer uses; a copy is held by `layers[0].g`; "
        "`layers[0].b`, `layers[1].b` have its shape but other values",
    ]



# --------------------------------------------------------------------------- word ids


def language_model(params: str) -> str:
    from test_word_id_inputs import CORRECT, MODEL

    text = MODEL.format(embedding_backward=CORRECT)
    assert "self.params += layer.params" in text
    return text.replace("self.params += layer.params", params)


def test_a_language_model_fed_word_ids_whose_params_are_copies_is_reported(tmp_path):
    """The step is measured on the model's own integer word ids (as floats they would make the
    embedding raise, and nothing would be measured)."""
    path, text, [finding] = checked(tmp_path, language_model("self.params += [p.copy() for p in layer.params]"))
    init = line_of(text, "def __init__(self, vocab_size=10000")
    assert (finding.layer, finding.param, finding.line) == (
        "TinyLanguageModel", "params[0], params[1], params[2], params[3], params[4]", init
    )
    holders = ["layers[0].W", "layers[1].W", "layers[1].b", "layers[3].W", "layers[3].b"]
    assert [text for label, text in finding.evidence if label == "identity"] == [
        f"params[{i}] is not an array any layer uses; a copy is held by `{holder}`" for i, holder in enumerate(holders)
    ]


def test_the_language_model_sharing_its_layers_arrays_is_not_reported(tmp_path):
    assert checked(tmp_path, language_model("self.params += layer.params"))[2] == []


def test_dict_keys_with_dots_are_named_as_keys_of_params(tmp_path):
    """`params['fc.W']` (state-dict style keys) is a dict entry, not a layer attribute `fc.W`."""
    dotted = SEPARATE.replace("'W':", "'fc.W':").replace("'b':", "'fc.b':")
    path, text, [finding] = checked(tmp_path, LAYERS, dotted)
    assert finding.param == "fc.W, fc.b"
    assert "(`params['fc.W']`, `params['fc.b']`)" in finding.message
    assert finding.fix == "self.layers[...] = Layer(self.params['fc.W'], ...)"
    assert [text for label, text in finding.evidence if label == "identity"] == [
        "params['fc.W'] is not an array any layer uses; `layers[0].W` has its shape but other values",
        "params['fc.b'] is not an array any layer uses; a copy is held by `layers[0].b`",
    ]


def test_a_descending_update_of_the_loop_variable_is_fixed_with_minus_equals(tmp_path):
    update = "for p, g in zip(net.params.values(), grads.values()):\n                p = p - 0.1 * g"
    path, text, [finding] = checked(tmp_path, LAYERS, SHARED, TRAIN.replace("for key in ('W', 'b'):\n            {update}", update))
    line = line_of(text, "p = p - 0.1 * g")
    assert (finding.severity, finding.line) == ("error", line)
    assert finding.message == (
        f"the update of `p` changes only the loop variable (line {line}): `p = p - 0.1 * g` binds a new array to "
        "it, so the parameters never change and the loss never goes down; update it in place with `-=`"
    )
    assert finding.fix == "p -= 0.1 * g"


def test_dict_keys_with_dots_handed_as_copies_are_named_as_keys_of_params(tmp_path):
    """The copying statement's finding and its in-place step evidence name `params['fc.W']`, not
    an attribute `fc.W` of a layer."""
    dotted = (
        SEPARATE.replace("'W':", "'fc.W':").replace("'b':", "'fc.b':")
        .replace("Affine(0.1 * np.random.randn(input_size, output_size), np.zeros(output_size))",
                 "Affine(self.params['fc.W'].copy(), self.params['fc.b'].copy())")
    )  # fmt: skip
    path, text, [finding] = checked(tmp_path, LAYERS, dotted)
    line = line_of(text, "self.layers = [Affine(self.params['fc.W'].copy()")
    keys = "`self.params['fc.W']` and `self.params['fc.b']`"
    assert (finding.param, finding.line) == ("fc.W, fc.b", line)
    assert finding.message == (
        f"`Net.__init__` gives a copy of {keys} to `layers` (line {line}): the layer computes with its own copies, "
        f"so an in-place SGD step on `params` changes nothing it computes and the loss never goes down; pass {keys} "
        "themselves"
    )
    steps = dict(finding.evidence)["in-place step"].split("; ")
    assert [s.split(" -= ")[0] for s in steps] == ["params['fc.W']", "params['fc.b']"]
