"""A course folder kept one function per file, each file named after its function:
`linear_backward.py` is checked together with the `linear_forward` of `linear_forward.py` beside
it, `tanh_backward.py` with the `tanh` of `tanh.py`. A wrong gradient is reported at its line of
the checked file; the pair is made only when the sibling file exists and defines that function."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LINEAR_FORWARD = """\
import numpy as np


def linear_forward(A, W, b):
    Z = W @ A + b
    return Z, (A, W, b)
"""

LINEAR_BACKWARD = """\
import numpy as np


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ
    return dA_prev, dW, db
"""

TANH = """\
import numpy as np


def tanh(Z):
    return np.tanh(Z), Z
"""

TANH_BACKWARD = """\
import numpy as np


def tanh_backward(dA, cache):
    Z = cache
    return dA * (1 - np.tanh(Z) ** 2)
"""

DW = "dW = dZ @ A_prev.T / m"


def built(report: dict) -> list[str]:
    return [b["what"] for b in report["built"]]


def test_a_backward_file_is_checked_with_the_forward_file_named_after_it(tmp_path):
    write(tmp_path, "linear_forward.py", LINEAR_FORWARD)
    report = check(write(tmp_path, "linear_backward.py", LINEAR_BACKWARD))
    assert errors(report) == []
    assert built(report) == ["linear_forward/linear_backward"]
    assert "nothing-to-check" not in {f["name"] for f in report["findings"]}


def test_a_dw_not_divided_by_m_is_reported_at_its_line_in_the_checked_file(tmp_path):
    write(tmp_path, "linear_forward.py", LINEAR_FORWARD)
    wrong = "dW = dZ @ A_prev.T"
    path = planted(tmp_path, "linear_backward.py", LINEAR_BACKWARD, DW, wrong)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD101", "W", line_of(path, wrong))
    assert finding["file"] == str(path)


def test_an_activation_backward_is_checked_with_the_activation_file(tmp_path):
    write(tmp_path, "tanh.py", TANH)
    report = check(write(tmp_path, "tanh_backward.py", TANH_BACKWARD))
    assert errors(report) == []
    assert built(report) == ["tanh/tanh_backward"]
    wrong = "return dA * (1 - np.tanh(Z))"
    path = planted(tmp_path, "tanh_backward.py", TANH_BACKWARD, "return dA * (1 - np.tanh(Z) ** 2)", wrong)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"]) == ("BPD101", line_of(path, wrong))


def test_no_pair_without_a_sibling_file_or_when_it_defines_another_function(tmp_path):
    path = write(tmp_path, "linear_backward.py", LINEAR_BACKWARD)
    alone = check(path)
    assert built(alone) == [] and "nothing-to-check" in {f["name"] for f in alone["findings"]}
    write(tmp_path, "linear_forward.py", LINEAR_FORWARD.replace("def linear_forward(", "def forward_linear("))
    renamed = check(path)
    assert built(renamed) == [] and "nothing-to-check" in {f["name"] for f in renamed["findings"]}


def test_the_forward_file_alone_still_has_nothing_to_check(tmp_path):
    write(tmp_path, "linear_backward.py", LINEAR_BACKWARD)
    report = check(write(tmp_path, "linear_forward.py", LINEAR_FORWARD))
    assert built(report) == [] and "nothing-to-check" in {f["name"] for f in report["findings"]}


FORWARD = """\
import numpy as np


def forward(X, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
"""

BACKWARD = """\
import numpy as np


def backward(X, Y, parameters, cache):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = dZ2 @ cache["A1"].T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (parameters["W2"].T @ dZ2) * (1 - cache["A1"] ** 2)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
"""


def test_a_network_backward_is_checked_with_the_forward_file_beside_it(tmp_path):
    write(tmp_path, "forward.py", FORWARD)
    report = check(write(tmp_path, "backward.py", BACKWARD))
    assert errors(report) == []
    assert built(report) == ["forward/backward"]
    wrong = "dW1 = dZ1 @ X.T"
    path = planted(tmp_path, "backward.py", BACKWARD, "dW1 = dZ1 @ X.T / m", wrong)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD101", "W1", line_of(path, wrong))
