"""A leaky activation written `A[Z < 0] = alpha * Z`: the whole array is stored into the masked
elements only, which NumPy refuses for any input with elements on both sides of the test. No
argument explains it, so it is the user's error at that line (`layer-raised`), not a build the
tool's guessed input failed (`build-failed`)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# style 1: module-level helpers with the activation's input as the cache
FUNCTIONS = '''\
import numpy as np


def leaky_relu(Z):
    A = np.maximum(0, Z)
    A[Z < 0] = 0.05 * Z[Z < 0]
    return A


def leaky_relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z < 0] = 0.05 * dA[Z < 0]
    return dZ
'''

# style 2: the forward returns (A, cache) and writes its mask as a name
TUPLES = '''\
import numpy as np

SLOPE = 0.02


def leaky(x):
    out = x.copy()
    neg = x <= 0
    out[neg] = SLOPE * x[neg]
    return out, x


def leaky_backward(dout, cache):
    dx = dout.copy()
    dx[cache <= 0] = SLOPE * dout[cache <= 0]
    return dx
'''


def test_the_correct_helpers_are_clean(tmp_path):
    for name, text in (("acts.py", FUNCTIONS), ("leaky_utils.py", TUPLES)):
        report = check(write(tmp_path, name, text))
        assert errors(report) == [], name
        assert report["built"], name


def test_the_whole_array_stored_into_the_mask_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "acts.py", FUNCTIONS, "    A[Z < 0] = 0.05 * Z[Z < 0]\n", "    A[Z < 0] = 0.05 * Z\n")
    found = [f for f in errors(check(path)) if f["name"] == "layer-raised"]
    assert [f["line"] for f in found] == [line_of(path, "A[Z < 0] = 0.05 * Z")]


def test_the_same_under_a_mask_compared_inline_in_the_tuple_style(tmp_path):
    path = planted(tmp_path, "leaky_utils.py", TUPLES, "    out[neg] = SLOPE * x[neg]\n", "    out[x <= 0] = SLOPE * x\n")
    found = [f for f in errors(check(path)) if f["name"] == "layer-raised"]
    assert [f["line"] for f in found] == [line_of(path, "out[x <= 0] = SLOPE * x")]
