"""bad-return, twelfth mutation round: a layer's forward that returns `(out, cache)` for a backward of its
own class that takes that cache hands the tuple on by design (42480cc, c2e9025); a forward defined
outside any class, or whose backward takes no element it returns, is still a bad return; and another
rule's finding inside an unwritten function keeps its words. Checked in this process by `check_file`."""

from __future__ import annotations

import pytest

from inprocess import checked, edited, line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_pair_forward_errors_named import UNFINISHED

LAYER = '''\
import numpy as np


class Dense:
    def __init__(self, n_in=4, n_out=3):
        self.W = np.random.default_rng(0).normal(size=(n_in, n_out))

    def forward(self, x):
        out = x @ self.W
        cache = x
        return out, cache

    def backward(self, dout, cache):
        self.dW = cache.T @ dout
        return dout @ self.W.T
'''
TUPLE = "`Dense.forward` returns a tuple, not an array: return the output array itself"
BACKWARD = "    def backward(self, dout, cache):\n"


def bad_returns(tmp_path, text):
    path, found = checked(tmp_path, "dense.py", text)
    return path, [f for f in found if f.name == "bad-return"]


@pytest.mark.parametrize(
    "edits",
    [(), ((BACKWARD, "    def backprop(self, dout, cache):\n"),), ((BACKWARD, "    def backward(self, cache, dout):\n"),)],
    ids=["backward", "backprop", "cache-first"],
)
def test_a_forward_handing_its_cache_to_its_own_backward_is_no_bad_return(tmp_path, edits):
    _, found = bad_returns(tmp_path, edited(LAYER, *edits))
    assert found == []


def test_a_forward_whose_backward_takes_none_of_what_it_returns_is_a_bad_return(tmp_path):
    path, found = bad_returns(tmp_path, edited(LAYER, (BACKWARD, "    def backward(self, dout, x):\n"), ("cache.T @ dout", "x.T @ dout")))
    (finding,) = found
    assert (finding.severity, finding.line, finding.message) == ("error", line_of(path, "def forward(self, x):"), TUPLE)


def test_a_forward_defined_outside_the_class_is_judged_as_a_bad_return(tmp_path):
    """`forward = _forward`: no class holds the function, so no backward of its own takes its cache."""
    text = edited(
        LAYER,
        ("    def forward(self, x):\n        out = x @ self.W\n        cache = x\n        return out, cache\n", "    forward = _forward\n"),
        ("class Dense:", "def _forward(self, x):\n    out = x @ self.W\n    cache = x\n    return out, cache\n\n\nclass Dense:"),
    )
    path, found = bad_returns(tmp_path, text)
    (finding,) = found
    assert (finding.severity, finding.line, finding.message) == ("error", line_of(path, "def _forward(self, x):"), TUPLE)


def test_another_rules_finding_in_an_unwritten_function_keeps_its_words(tmp_path):
    """A forward left as a TODO (`out = None`, `pass`) is the layer-raised warning that says it is not written
    yet, at the line that uses the placeholder, not bad-return's finding."""
    path, found = checked(tmp_path, "layers.py", edited(UNFINISHED, ("    out = None\n", "    out = None\n    pass\n")))
    (raised,) = [f for f in found if f.name == "layer-raised"]
    assert (raised.severity, raised.line) == ("warning", line_of(path, "return out.reshape("))
    assert raised.message.startswith("`affine_forward` is not written yet: `out` is still the `None` placeholder")
    assert [f for f in found if f.name == "bad-return"] == []
