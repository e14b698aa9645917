"""A backward function whose forward could not be run is still probed on its own: every backward is
linear in the upstream gradient it is handed, so one that stores a number not read from it
(`dZ[Z <= 0] = 0.01`, `dZ = 1 - s ** 2`) is wrong whatever its forward computes, and named at that
statement (`backward-not-linear`)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# style 1: module-level helpers, the activation's input as the cache
FUNCTIONS = '''\
import numpy as np


def leaky_relu(Z):
    A = np.maximum(0, Z)
    A[Z < 0] = 0.01 * Z[Z < 0]
    return A


def leaky_relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0.01 * dA[Z <= 0]
    return dZ
'''

BROKEN_FORWARD = ("    A[Z < 0] = 0.01 * Z[Z < 0]\n", "    A[Z < 0] = 0.01 * Z\n")

# style 2: an activation and its backward returning (A, cache) and taking the cache back
TUPLES = '''\
import numpy as np


def softsign(x):
    out = x / (1 + np.abs(x))
    return out, x


def softsign_backward(dout, cache):
    x = cache
    slope = 1 / (1 + np.abs(x)) ** 2
    dx = dout * slope
    return dx
'''


def _named(path, name="backward-not-linear"):
    return [f for f in errors(check(path)) if f["name"] == name]


def test_the_correct_helpers_are_clean(tmp_path):
    for name, text in (("acts.py", FUNCTIONS), ("soft_utils.py", TUPLES)):
        report = check(write(tmp_path, name, text))
        assert errors(report) == [], name


def test_a_backward_that_only_fails_with_its_forward_says_nothing_of_its_own(tmp_path):
    path = planted(tmp_path, "acts.py", FUNCTIONS, *BROKEN_FORWARD)
    report = check(path)
    assert [f["name"] for f in errors(report)] == ["layer-raised"]


def test_a_constant_stored_into_the_gradient_is_named_beside_the_forward_error(tmp_path):
    text = FUNCTIONS.replace(*BROKEN_FORWARD)
    path = planted(tmp_path, "acts.py", text, "    dZ[Z <= 0] = 0.01 * dA[Z <= 0]\n", "    dZ[Z <= 0] = 0.01\n")
    (found,) = _named(path)
    assert found["line"] == line_of(path, "dZ[Z <= 0] = 0.01")
    assert "`dA`" in found["message"]


def test_a_slope_returned_without_the_upstream_gradient_is_named(tmp_path):
    text = TUPLES.replace("    out = x / (1 + np.abs(x))\n", "    out = x / (1 + np.absolute(x, 2))\n")  # raises: the user's forward
    path = planted(tmp_path, "soft_utils.py", text, "    dx = dout * slope\n", "    dx = slope\n")
    (found,) = _named(path)
    assert found["line"] == line_of(path, "dx = slope")


LOSS = '''\
import numpy as np


def mse(y_pred, y_true):
    return np.mean((y_pred - y_true) ** 2, axis=1)


def mse_backward(y_pred, y_true):
    return 2 * (y_pred - y_true) / y_pred.size
'''


def test_a_loss_gradient_taking_the_prediction_is_not_read_as_a_backward(tmp_path):
    path = planted(tmp_path, "losses.py", LOSS, "axis=1)", "axis=1).reshape(-1, y_true)")  # a forward that raises
    assert _named(path) == []
