"""Unit-test helpers that take the user's function and call it (`test_sigmoid(sigmoid)` beside
`test_sigmoid_backward(sigmoid_backward)`) are tests of a layer, not a forward/backward pair: no
`build-failed` warning for them. The real pair beside them is still checked, and a wrong backward found."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

# A module of test helpers alone, as a course hands them out beside its notebook.
HELPERS = '''\
import numpy as np


def test_tanh(tanh):
    x = np.linspace(-2.0, 2.0, 12).reshape(3, 4)
    assert np.allclose(tanh(x), np.tanh(x)), "tanh is wrong"
    print("tanh passed")


def test_tanh_backward(tanh_backward):
    x = np.linspace(-2.0, 2.0, 12).reshape(3, 4)
    upstream = np.ones_like(x)
    expected = 1.0 - np.tanh(x) ** 2
    assert np.allclose(tanh_backward(upstream, x), expected), "tanh_backward is wrong"
    print("tanh_backward passed")
'''

# The course's activation pair beside tests of it that take the functions as arguments.
PAIR_AND_TESTS = '''\
import numpy as np


def sigmoid(Z):
    A = 1.0 / (1.0 + np.exp(-Z))
    return A, Z


def sigmoid_backward(dA, cache):
    s = 1.0 / (1.0 + np.exp(-cache))
    return dA * s * (1.0 - s)


def check_sigmoid(fn):
    out, _ = fn(np.zeros((2, 2)))
    assert np.allclose(out, 0.5)


def check_sigmoid_backward(fn):
    assert np.allclose(fn(np.ones((2, 2)), np.zeros((2, 2))), 0.25)


check_sigmoid(sigmoid)
check_sigmoid_backward(sigmoid_backward)
'''


def _build_failed(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "build-failed"]


def test_test_helpers_alone_are_not_a_pair(tmp_path):
    report = check(write(tmp_path, "test_utils.py", HELPERS))
    assert _build_failed(report) == []
    assert errors(report) == []


def test_tests_beside_a_real_pair_are_not_a_pair(tmp_path):
    report = check(write(tmp_path, "activations.py", PAIR_AND_TESTS))
    assert _build_failed(report) == []
    assert errors(report) == []
    assert "sigmoid" in {m["layer"] for m in report["measurements"]}


def test_a_wrong_backward_beside_the_tests_is_still_found(tmp_path):
    path = planted(tmp_path, "activations.py", PAIR_AND_TESTS, "return dA * s * (1.0 - s)", "return dA * s")
    report = check(path)
    assert _build_failed(report) == []
    assert any(f["name"] in ("gradient-mismatch", "derivative-function-wrong") for f in errors(report)), report["findings"]
