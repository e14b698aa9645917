"""A course's own helper, correct as handed out (`affine_relu_forward` calling `affine_forward` and
`relu_forward`), returns None while the functions it calls are still templates. The helper is not
what needs writing: it gets a warning naming the stub it calls, never "add `return out`"."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

LAYERS = """\
import numpy as np


def affine_forward(x, w, b):
    out = None
    # TODO: the affine forward pass
    pass
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    out = None
    # TODO: the ReLU forward pass
    pass
    return out, x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), fc_cache)
"""


def _bad_returns(report: dict) -> dict[str, dict]:
    return {f["layer"]: f for f in report["findings"] if f["name"] == "bad-return"}


def test_a_helper_that_returns_none_because_a_stub_it_calls_does_is_a_warning_naming_the_stub(tmp_path):
    path = write(tmp_path, "layers.py", LAYERS)
    report = check(path)
    assert errors(report) == []
    found = _bad_returns(report)
    assert found["affine"]["severity"] == "warning" and found["affine"]["line"] == line_of(path, "    pass")
    assert found["relu"]["severity"] == "warning"
    helper = found["affine_relu"]
    assert helper["severity"] == "warning"
    assert helper["line"] == line_of(path, "def affine_relu_forward")
    stub = line_of(path, "def affine_forward")
    assert f"returns None because `affine_forward` (line {stub}), which it calls, is not written yet" in helper["message"]
    assert "return out" not in helper["message"]


def test_once_the_stubs_are_written_nothing_is_left_to_warn_about(tmp_path):
    written = LAYERS.replace("    out = None\n    # TODO: the affine forward pass\n    pass\n", "    out = x @ w + b\n")
    written = written.replace("    out = None\n    # TODO: the ReLU forward pass\n    pass\n", "    out = np.maximum(0, x)\n")
    report = check(write(tmp_path, "layers.py", written))
    assert errors(report) == [] and _bad_returns(report) == {}
    assert {m["layer"] for m in report["measurements"]} >= {"affine", "relu"}


def test_a_stub_star_imported_from_another_module_is_named_with_its_file(tmp_path):
    stubs, helpers = LAYERS.split("def affine_relu_forward")
    layers = write(tmp_path, "layers.py", stubs)
    path = write(tmp_path, "layer_utils.py", "from layers import *\n\n\ndef affine_relu_forward" + helpers)
    report = check(path)
    assert errors(report) == []
    helper = _bad_returns(report)["affine_relu"]
    assert helper["severity"] == "warning" and helper["line"] == line_of(path, "def affine_relu_forward")
    assert f"`affine_forward` (layers.py, line {line_of(layers, 'def affine_forward')}), which it calls, is not written yet" in helper["message"]
