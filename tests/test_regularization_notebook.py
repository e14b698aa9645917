"""The deep-learning course's regularisation exercise: the student writes
`compute_cost_with_regularization` and `backward_propagation_with_regularization` and imports the
three-layer `forward_propagation` from `reg_utils`, which their copy rarely has. The backward is
paired with that forward (backprop-doctor's stand-in of it) and checked against the student's own
regularised cost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted, write

NOTEBOOK = """\
    import numpy as np
    from reg_utils import compute_cost, forward_propagation, initialize_parameters, load_2D_dataset


    def compute_cost_with_regularization(A3, Y, parameters, lambd):
        m = Y.shape[1]
        W1, W2, W3 = parameters["W1"], parameters["W2"], parameters["W3"]
        cross_entropy_cost = compute_cost(A3, Y)
        L2_regularization_cost = lambd / (2 * m) * (np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3)))
        return cross_entropy_cost + L2_regularization_cost


    def backward_propagation_with_regularization(X, Y, cache, lambd):
        m = X.shape[1]
        (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
        dZ3 = A3 - Y
        dW3 = 1.0 / m * np.dot(dZ3, A2.T) + lambd / m * W3
        db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
        dA2 = np.dot(W3.T, dZ3)
        dZ2 = np.multiply(dA2, np.int64(A2 > 0))
        dW2 = 1.0 / m * np.dot(dZ2, A1.T) + lambd / m * W2
        db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
        dA1 = np.dot(W2.T, dZ2)
        dZ1 = np.multiply(dA1, np.int64(A1 > 0))
        dW1 = 1.0 / m * np.dot(dZ1, X.T) + lambd / m * W1
        db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
        return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
                "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
"""


def test_the_student_s_regularised_backward_is_checked_with_the_course_s_forward(tmp_path: Path) -> None:
    report = check(write(tmp_path, "Regularization.py", NOTEBOOK))
    assert errors(report) == []
    assert "forward_propagation/backward_propagation_with_regularization" in {b["what"] for b in report["built"] if not b["skipped"]}


@pytest.mark.parametrize(("correct", "wrong"), [("+ lambd / m * W3", "+ lambd * W3"), ("+ lambd / m * W1", "")])
def test_a_wrong_or_missing_regularisation_term_is_found_at_its_line(tmp_path: Path, correct: str, wrong: str) -> None:
    path = planted(tmp_path, "Regularization.py", NOTEBOOK, correct, wrong)
    line = line_of(path, "dW3 = 1.0 / m" if "W3" in correct else "dW1 = 1.0 / m")
    assert line in {f["line"] for f in errors(check(path))}


def test_an_exercise_whose_cost_is_still_the_none_placeholder_is_not_written_yet(tmp_path: Path) -> None:
    """`L2_regularization_cost = None` under "START CODE HERE", and the course's test-case helper
    beside the exercise: a warning that the cost is not written yet, no error, and the helper
    (`backward_propagation_with_regularization_test_case()`) is not taken for a backward pass."""
    text = NOTEBOOK.replace(
        "L2_regularization_cost = lambd / (2 * m) * (np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3)))",
        "L2_regularization_cost = None",
    ) + '''

    def backward_propagation_with_regularization_test_case():
        return None
    '''
    path = write(tmp_path, "Regularization.py", text)
    report = check(path)
    assert errors(report) == []
    (stub,) = [f for f in report["findings"] if f["pattern"] == "not-written"]
    assert stub["severity"] == "warning" and stub["line"] == line_of(path, "return cross_entropy_cost + L2_regularization_cost")
    assert "`compute_cost_with_regularization` is not written yet" in stub["message"]
    assert not [b for b in report["built"] if "test_case" in b["what"]]
