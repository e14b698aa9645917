"""Function pairs over columns in the deep-learning course's mean convention (`conventions/column_pairs`).

`linear_backward` divides dW and db by the number of columns m but not dA_prev: that is the
course's convention and no finding; every other mistake in such a pair is still reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases" / "conventions"

CORRECT = (CASES / "column_pairs_ok.py").read_text()


def check(path: Path) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def _mutated(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    assert CORRECT.count(old) == 1, old
    text = CORRECT.replace(old, new)
    line = text[: text.index(new)].count("\n") + 1
    path = tmp_path / "deep_step_by_step.py"
    path.write_text(text)
    return path, line


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # the ReLU's derivative forgotten: dZ is dA
        ("        dZ = relu_backward(dA, activation_cache)", "        dZ = dA"),
        # the wrong transpose for the input gradient
        ("    dA_prev = W.T.dot(dZ)", "    dA_prev = W.T.dot(dZ) / m"),
        # db divided, dW summed over the wrong operand
        ("    dW = dZ.dot(A_prev.T) / m", "    dW = dZ.dot(np.ones_like(A_prev).T) / m"),
    ],
    ids=["missing-relu-derivative", "input-gradient-divided", "wrong-operand"],
)
def test_mistakes_in_a_column_pair_are_still_reported_at_their_line(old, new, tmp_path):
    path, line = _mutated(tmp_path, old, new)
    report = check(path)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert line in {f["line"] for f in errors}, [(f["line"], f["message"]) for f in errors]


def test_a_column_pair_is_checked_on_columns_for_each_activation_it_names(tmp_path):
    path = tmp_path / "deep_step_by_step.py"
    path.write_text(CORRECT)
    report = check(path)
    built = {b["what"]: b for b in report["built"]}
    assert "one column per sample" in built["linear_forward/linear_backward"]["shapes"]
    shapes = built["linear_activation_forward/linear_activation_backward"]["shapes"]
    assert "activation='relu'" in shapes and "activation='sigmoid'" in shapes
    assert built["L_model_forward/L_model_backward"]["how"] == "function-networks convention"
    assert report["measurements"], "no gradient was compared"


ROWS_DIVIDED = '''
import numpy as np


def affine_forward(x, w, b):
    out = x.dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    dx = dout.dot(w.T)
    dw = x.T.dot(dout) / n
    db = dout.sum(axis=0) / n
    return dx, dw, db
'''


def test_a_pair_over_rows_that_divides_its_gradients_by_the_batch_is_still_reported(tmp_path):
    # one sample per row (cs231n): the upstream gradient already holds the mean's 1/N
    path = tmp_path / "layers.py"
    path.write_text(ROWS_DIVIDED)
    report = check(path)
    wrong = {f["param"] for f in report["findings"] if f["code"] == "BPD101"}
    assert {"w", "b"} <= wrong, report["findings"]


TEST_CASE_MAKERS = '''
import numpy as np


def linear_forward_test_case():
    np.random.seed(1)
    return np.random.randn(3, 2), np.random.randn(1, 3), np.random.randn(1, 1)


def linear_backward_test_case():
    np.random.seed(1)
    return np.random.randn(1, 2), (np.random.randn(3, 2), np.random.randn(1, 3), np.random.randn(1, 1))
'''


def test_functions_that_make_test_inputs_are_not_a_function_pair(tmp_path):
    path = tmp_path / "testCases.py"
    path.write_text(TEST_CASE_MAKERS)
    report = check(path)
    assert not [f for f in report["findings"] if f["code"] == "BPD008"], report["findings"]
    assert not [b for b in report["built"] if "linear_forward_test_case" in b["what"]]


DRIVER = '''

np.random.seed(1)
A = np.random.randn(3, 2)
W = np.random.randn(1, 3)
b = np.random.randn(1, 1)
Z, linear_cache = linear_forward(A, W, b)
A_next, activation_cache = linear_activation_forward(A, W, b, activation="sigmoid")
print(Z, A_next)
'''


def test_the_pairs_a_notebook_calls_are_checked_on_its_own_arrays_in_their_convention(tmp_path):
    # the notebook's cells call the pair on a batch of two columns: dW is half the sum's gradient
    path = tmp_path / "deep_step_by_step_nb.py"
    path.write_text(CORRECT + DRIVER)
    report = check(path)
    observed = {b["what"]: b["how"] for b in report["built"] if b["origin"] == "observed"}
    assert observed.get("linear_forward/linear_backward", "").startswith("arguments observed at line")
    assert not [f for f in report["findings"] if f["severity"] == "error"], report["findings"]
