"""A layer built from a name its constructor looks up in a dict of the module
(`Activation("tanh")` with `ACTIVATIONS[name]()`): built with the dict's first key."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = """\
    import numpy as np


    class Tanh:
        def __call__(self, x):
            return np.tanh(x)

        def gradient(self, x):
            return 1 - np.tanh(x) ** 2


    class Sigmoid:
        def __call__(self, x):
            return 1 / (1 + np.exp(-x))

        def gradient(self, x):
            s = 1 / (1 + np.exp(-x))
            return s * (1 - s)


    ACTIVATIONS = {"tanh": Tanh, "sigmoid": Sigmoid}


    class Activation:
        def __init__(self, name):
            self.fn = ACTIVATIONS[name]()

        def forward(self, x):
            self.x = x
            return self.fn(x)

        def backward(self, dout):
            return dout * self.fn.gradient(self.x)
"""


def test_a_layer_named_by_a_key_of_a_module_dict_is_built_with_its_first_key(tmp_path):
    report = check(write(tmp_path, "layers.py", LAYERS))
    assert errors(report) == []
    assert [f for f in report["findings"] if f["name"] == "build-failed"] == []
    assert {b["what"]: b["how"] for b in report["built"]}["Activation"] == "Activation(name='tanh')"
    assert ("Activation", "x", "ok") in {(m["layer"], m["param"], m["verdict"]) for m in report["measurements"]}


def test_its_backward_given_the_output_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "return dout * self.fn.gradient(self.x)", "return dout * self.fn.gradient(self.fn(self.x))")
    report = check(path)
    (wrong,) = [f for f in errors(report) if f["layer"] == "Activation"]
    assert wrong["line"] == line_of(path, "return dout * self.fn.gradient(self.fn(self.x))")
