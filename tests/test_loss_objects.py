"""Loss objects (`loss(y, p)` / `gradient(y, p)`) and function networks whose backward returns
a tuple (`f_propagation` / `b_propagation` returning `dW1, db1, ...`).

The loss twins live in tests/cases/conventions (loss_objects_ok.py, loss_objects_bug.py) and run
through tests/test_conventions.py as well; here: the argument order, what is left out, and the
tuple variant of function networks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from backprop_doctor.conventions import loss_objects

CASES = Path(__file__).parent / "cases" / "conventions"

FUNCTION_NETWORK = '# A two-layer classifier as plain functions; the backward pass returns its gradients as a tuple.\nimport numpy as np\n\n\ndef init_params(n_x, n_h, n_y):\n    params = {\n        "W1": np.random.randn(n_h, n_x) * 0.1,\n        "b1": np.zeros((n_h, 1)),\n        "W2": np.random.randn(n_y, n_h) * 0.1,\n        "b2": np.zeros((n_y, 1)),\n    }\n    return params\n\n\ndef sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-z))\n\n\ndef f_propagation(X, params):\n    Z1 = params["W1"] @ X + params["b1"]\n    A1 = np.tanh(Z1)\n    Z2 = params["W2"] @ A1 + params["b2"]\n    A2 = sigmoid(Z2)\n    return A2, (Z1, A1, Z2, A2)\n\n\ndef compute_cost(A2, Y):\n    m = Y.shape[1]\n    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)\n\n\ndef b_propagation(params, cache, X, Y):\n    m = X.shape[1]\n    Z1, A1, Z2, A2 = cache\n    dZ2 = A2 - Y\n    dW2 = dZ2 @ A1.T / m\n    db2 = np.sum(dZ2, axis=1, keepdims=True) / m\n    dZ1 = params["W2"].T @ dZ2 * (1 - A1 ** 2)\n    dW1 = dZ1 @ X.T / m\n    db1 = np.sum(dZ1, axis=1, keepdims=True) / m\n    return dW1, db1, dW2, db2\n'


def check(path: Path) -> tuple[int, dict]:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300, cwd=path.parent,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)["files"][0]


def errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] == "error"]


def bug_line(path: Path) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "# BUG" in text)


def test_loss_objects_are_gradient_checked_with_respect_to_the_prediction(tmp_path):
    path = Path(shutil.copy(CASES / "loss_objects_ok.py", tmp_path / "losses.py"))
    code, report = check(path)
    assert errors(report) == [], errors(report)
    assert {"MeanSquaredError", "BinaryCrossEntropy", "HalfSquaredCost"} <= {m["layer"] for m in report["measurements"]}
    assert code == 0


def test_flipped_loss_gradient_is_reported_at_its_line(tmp_path):
    path = Path(shutil.copy(CASES / "loss_objects_bug.py", tmp_path / "losses.py"))
    code, report = check(path)
    assert [(f["layer"], f["line"]) for f in errors(report)] == [("BinaryCrossEntropy", bug_line(path))], errors(report)
    assert code == 1


def test_a_gradient_with_respect_to_the_target_is_wrong(tmp_path):
    path = tmp_path / "mse.py"
    path.write_text(textwrap.dedent(
        """\
        import numpy as np


        class MSE:
            def loss(self, y_pred, y_true):
                return np.mean((y_pred - y_true) ** 2)

            def gradient(self, y_pred, y_true):
                return 2 * (y_true - y_pred) / y_pred.size  # BUG: the derivative by y_true
        """
    ))
    code, report = check(path)
    assert [(f["layer"], f["line"]) for f in errors(report)] == [("MSE", bug_line(path))], errors(report)
    assert code == 1


class _Base:
    def loss(self, y, y_pred):
        raise NotImplementedError()

    def gradient(self, y, y_pred):
        raise NotImplementedError()


class _NNFSLoss:  # forward/backward: a layer convention's, not a loss object
    def forward(self, y_pred, y_true):
        return y_pred

    def backward(self, dvalues, y_true):
        self.dinputs = dvalues


class _Unnamed:  # neither argument is named like a target: not guessed
    def loss(self, a1, a2):
        return a1

    def gradient(self, a1, a2):
        return a2


def test_which_argument_is_the_prediction_is_read_from_the_names():
    assert loss_objects.loss_methods(_Base) == ("loss", "gradient", 1)
    assert loss_objects.loss_methods(_NNFSLoss) is None
    assert loss_objects.loss_methods(_Unnamed) is None


def test_function_network_with_a_tuple_of_gradients_is_checked(tmp_path):
    path = tmp_path / "fprop.py"
    path.write_text(FUNCTION_NETWORK)
    code, report = check(path)
    assert errors(report) == [], errors(report)
    params = {m["param"] for m in report["measurements"] if m["layer"] == "f_propagation/b_propagation"}
    assert params == {"W1", "b1", "W2", "b2"}, report["measurements"]
    assert code == 0


def test_function_network_tuple_bug_is_reported_at_its_line(tmp_path):
    path = tmp_path / "fprop.py"
    path.write_text(FUNCTION_NETWORK.replace(
        "    db1 = np.sum(dZ1, axis=1, keepdims=True) / m\n",
        "    db1 = np.sum(dZ1, axis=1, keepdims=True)  # BUG: not divided by m\n",
    ))
    code, report = check(path)
    found = errors(report)
    assert found and {f["line"] for f in found} == {bug_line(path)}, [(f["param"], f["line"], f["message"]) for f in found]
    assert {f["param"] for f in found} == {"b1"}
    assert code == 1
