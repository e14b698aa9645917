"""A training method that computes no loss and walks its records one at a time (the first-neural-network
course's `train(features, targets)`: `error = y - output`, `hidden_error = W_out @ error`, the per-record
steps added up and applied after the loop). `hidden_error` is the error carried back one layer, not a
loss: the step is measured against the squared error its output error implies, summed over the records
the inner loop walks. Two styles: 1-D records from `zip(features, targets)` with `np.dot`, and (1, D)
rows sliced by index with `@`; each correct program is clean and a wrong activation slope in it is still
reported on the weight it feeds."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, planted, replayed, write

RECORDS = """\
    import numpy as np


    class BikeNetwork:
        def __init__(self, n_in, n_hidden, n_out, lr):
            rng = np.random.default_rng(3)
            self.w_in = rng.normal(0.0, n_in ** -0.5, (n_in, n_hidden))
            self.w_out = rng.normal(0.0, n_hidden ** -0.5, (n_hidden, n_out))
            self.lr = lr

        def sigmoid(self, z):
            return 1.0 / (1.0 + np.exp(-z))

        def train(self, features, targets):
            count = features.shape[0]
            step_in = np.zeros(self.w_in.shape)
            step_out = np.zeros(self.w_out.shape)
            for x, y in zip(features, targets):
                hidden_in = np.dot(x, self.w_in)
                hidden_out = self.sigmoid(hidden_in)
                out = np.dot(hidden_out, self.w_out)
                error = y - out
                output_error_term = error
                hidden_error = np.dot(self.w_out, output_error_term)
                hidden_error_term = hidden_error * hidden_out * (1 - hidden_out)
                step_in += hidden_error_term * x[:, None]
                step_out += output_error_term * hidden_out[:, None]
            self.w_out += self.lr * step_out / count
            self.w_in += self.lr * step_in / count

        def run(self, features):
            hidden = self.sigmoid(np.dot(features, self.w_in))
            return np.dot(hidden, self.w_out)

"""

ROWS = """\
    import numpy as np


    class Regressor:
        def __init__(self, n_in, n_hidden, n_out, learning_rate):
            rng = np.random.default_rng(5)
            self.W1 = rng.normal(0.0, 0.3, (n_in, n_hidden))
            self.W2 = rng.normal(0.0, 0.3, (n_hidden, n_out))
            self.learning_rate = learning_rate

        def train(self, inputs, targets):
            g1 = np.zeros_like(self.W1)
            g2 = np.zeros_like(self.W2)
            for i in range(len(inputs)):
                x = inputs[i : i + 1]
                hidden = np.tanh(x @ self.W1)
                outputs = hidden @ self.W2
                output_errors = targets[i : i + 1] - outputs
                hidden_errors = output_errors @ self.W2.T
                hidden_grad = hidden_errors * (1 - hidden ** 2)
                g2 += hidden.T @ output_errors
                g1 += x.T @ hidden_grad
            self.W2 += self.learning_rate * g2
            self.W1 += self.learning_rate * g1

        def predict(self, inputs):
            return np.tanh(inputs @ self.W1) @ self.W2
"""


def _root(report: dict) -> dict:
    return next(f for f in errors(report) if not f.get("caused_by"))


def test_records_zipped_with_a_hidden_error_are_measured_against_the_squared_error(tmp_path: Path) -> None:
    report = check(write(tmp_path, "network.py", RECORDS))
    assert errors(report) == [], errors(report)
    step = replayed(report)
    assert "summed over its samples" in step["loss"] and "hidden_error" not in step["loss"]
    assert report["measurements"] and all(m["verdict"] == "ok" for m in report["measurements"])


def test_a_wrong_slope_after_the_hidden_error_is_still_named(tmp_path: Path) -> None:
    path = planted(tmp_path, "network.py", RECORDS, "hidden_out * (1 - hidden_out)", "hidden_out")
    root = _root(check(path))
    assert root["code"] == "BPD108" and root["param"] == "self.w_in"  # the weight before the wrong slope, the other right
    assert "squared error" in root["message"]


def test_rows_sliced_by_index_are_measured_against_the_squared_error(tmp_path: Path) -> None:
    report = check(write(tmp_path, "regressor.py", ROWS))
    assert errors(report) == [], errors(report)
    step = replayed(report)
    assert "summed over its samples" in step["loss"]
    assert report["measurements"] and all(m["verdict"] == "ok" for m in report["measurements"])


def test_a_wrong_slope_in_sliced_rows_is_still_named(tmp_path: Path) -> None:
    path = planted(tmp_path, "regressor.py", ROWS, "(1 - hidden ** 2)", "(1 - hidden)")
    root = _root(check(path))
    assert root["code"] == "BPD108" and root["param"] == "self.W1"
    assert "squared error" in root["message"]


def test_a_summed_step_at_a_rate_the_driver_chose_is_not_called_too_high(tmp_path: Path) -> None:
    # the course's steps without `/ n_records`: at the driver's own learning_rate (the signature has no
    # default) the summed step over its batch may climb; the program's callers pass a rate of their own
    summed = RECORDS.replace("self.lr * step_out / count", "self.lr * step_out").replace("self.lr * step_in / count", "self.lr * step_in")
    report = check(write(tmp_path, "network.py", summed), training=True)
    assert errors(report) == [], errors(report)
    assert all(f["code"] != "BPD608" for f in report["findings"]), report["findings"]
