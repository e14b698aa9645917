"""The deep-learning course's regularisation exercise saved as one file per function: the model's file
imports `backward_propagation_with_regularization` from its own module and `compute_cost_with_regularization`
from another, with the course's `forward_propagation` from `reg_utils`. The backward differentiates the
regularised cost (`lambd * ΣW² / (2m)` added, `lambd * W / m` in each dW), so it is checked against that cost,
found in its own module by the suffix it shares with the backward, not against the cost without the L2 term
(which called every dW wrong, blaming `dZ3 = A3 - Y`). A wrong regularisation term is still found at its line.
The programs here are written for these tests.
"""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, write

COST = """\
    import numpy as np
    from reg_utils import compute_cost


    def compute_cost_with_regularization(A3, Y, parameters, lambd):
        m = Y.shape[1]
        W1, W2, W3 = parameters["W1"], parameters["W2"], parameters["W3"]
        L2_regularization_cost = (np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3))) * lambd / (2 * m)
        return compute_cost(A3, Y) + L2_regularization_cost
"""

BACKWARD = """\
    import numpy as np


    def backward_propagation_with_regularization(X, Y, cache, lambd):
        m = X.shape[1]
        (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
        dZ3 = A3 - Y
        dW3 = 1. / m * np.dot(dZ3, A2.T) + lambd * W3 / m
        db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
        dA2 = np.dot(W3.T, dZ3)
        dZ2 = np.multiply(dA2, np.int64(A2 > 0))
        dW2 = 1. / m * np.dot(dZ2, A1.T) + lambd * W2 / m
        db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
        dA1 = np.dot(W2.T, dZ2)
        dZ1 = np.multiply(dA1, np.int64(A1 > 0))
        dW1 = 1. / m * np.dot(dZ1, X.T) + lambd * W1 / m
        db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)
        return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
                "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
"""

# the model's file, importing every function with `*` from its own module
STARRED = """\
    import numpy as np
    from reg_utils import *
    from compute_cost_with_regularization import *
    from backward_propagation_with_regularization import *


    def model(X, Y, learning_rate=0.3, num_iterations=30000, lambd=0.7):
        parameters = initialize_parameters([X.shape[0], 20, 3, 1])
        for i in range(num_iterations):
            a3, cache = forward_propagation(X, parameters)
            cost = compute_cost_with_regularization(a3, Y, parameters, lambd)
            grads = backward_propagation_with_regularization(X, Y, cache, lambd)
            parameters = update_parameters(parameters, grads, learning_rate)
        return parameters
"""

# the same, with each function imported by name from modules named otherwise
NAMED = """\
    import numpy as np
    from reg_utils import initialize_parameters, forward_propagation, update_parameters
    from costs import compute_cost_with_regularization
    from backprop import backward_propagation_with_regularization


    def model(X, Y, learning_rate=0.3, num_iterations=30000, lambd=0.7):
        parameters = initialize_parameters([X.shape[0], 20, 3, 1])
        for i in range(num_iterations):
            a3, cache = forward_propagation(X, parameters)
            cost = compute_cost_with_regularization(a3, Y, parameters, lambd)
            grads = backward_propagation_with_regularization(X, Y, cache, lambd)
            parameters = update_parameters(parameters, grads, learning_rate)
        return parameters
"""

PAIR = "forward_propagation/backward_propagation_with_regularization"


def _layout(tmp_path: Path, model: str, cost_module: str, backward_module: str, backward: str = BACKWARD) -> Path:
    write(tmp_path, f"{cost_module}.py", COST)
    write(tmp_path, f"{backward_module}.py", backward)
    return write(tmp_path, "model_regularization.py", model)


def test_a_regularised_backward_is_checked_against_the_regularised_cost_of_its_own_module(tmp_path: Path) -> None:
    report = check(_layout(tmp_path, STARRED, "compute_cost_with_regularization", "backward_propagation_with_regularization"))
    assert errors(report) == []
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == PAIR}
    assert verdicts and set(verdicts.values()) == {"ok"}


def test_a_wrong_regularisation_term_there_is_still_found_at_its_line(tmp_path: Path) -> None:
    backward = planted(tmp_path, "backward_propagation_with_regularization.py", BACKWARD, "+ lambd * W2 / m", "+ lambd * W2")
    write(tmp_path, "compute_cost_with_regularization.py", COST)
    report = check(write(tmp_path, "model_regularization.py", STARRED))
    lines = {(f["file"], f["line"]) for f in errors(report) if f["layer"] == PAIR}
    assert (str(backward), line_of(backward, "dW2 = 1. / m")) in lines
    assert not any(f["line"] == line_of(backward, "dZ3 = A3 - Y") for f in errors(report))


def test_imported_by_name_from_modules_named_otherwise_the_cost_is_found_by_its_suffix(tmp_path: Path) -> None:
    report = check(_layout(tmp_path, NAMED, "costs", "backprop"))
    assert errors(report) == []
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == PAIR} == {"ok"}


def test_a_missing_regularisation_term_of_the_named_layout_is_still_found(tmp_path: Path) -> None:
    backward = planted(tmp_path, "backprop.py", BACKWARD, "+ lambd * W1 / m", "")
    write(tmp_path, "costs.py", COST)
    report = check(write(tmp_path, "model_regularization.py", NAMED))
    assert line_of(backward, "dW1 = 1. / m") in {f["line"] for f in errors(report) if f["layer"] == PAIR}
