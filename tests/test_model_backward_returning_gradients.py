"""A model whose `backward(y_pred, y)` starts from the prediction and the target and returns the
gradients (no learning rate, no step) is checked against the loss beside it: its own
`loss(y_pred, y)` method, or the one loss function of its file (`loss(y_true, y_pred)` too).
The gradients are read where backward returns them: lists of arrays for lists of weights
(`return dws, dbs` for `self.ws`, `self.bs`), a dictionary keyed by the parameters' names (of
attributes, `self.W1`, or of a parameter dictionary, `self.params["W1"]`)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

LISTS = '''\
import numpy as np


def relu(z):
    return np.maximum(z, 0)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class ListMLP:
    def __init__(self, n_in, hidden_sizes, n_out):
        sizes = [n_in] + hidden_sizes + [n_out]
        self.ws = [np.random.randn(a, b) * 0.5 for a, b in zip(sizes[:-1], sizes[1:])]
        self.bs = [np.random.randn(b) * 0.1 for b in sizes[1:]]

    def forward(self, x):
        self.inputs, self.pre = [], []
        h = x
        for i, (w, b) in enumerate(zip(self.ws, self.bs)):
            self.inputs.append(h)
            z = h @ w + b
            self.pre.append(z)
            h = softmax(z) if i == len(self.ws) - 1 else relu(z)
        return h

    def loss(self, y_hat, y):
        return -np.mean(np.log(y_hat[np.arange(len(y)), y]))

    def backward(self, y_hat, y):
        n = len(y)
        delta = y_hat.copy()
        delta[np.arange(n), y] -= 1
        delta /= n
        dws, dbs = [], []
        for i in reversed(range(len(self.ws))):
            dw = self.inputs[i].T @ delta
            db = delta.sum(axis=0)
            dws.append(dw)
            dbs.append(db)
            if i > 0:
                delta = (delta @ self.ws[i].T) * (self.pre[i - 1] > 0)
        return dws[::-1], dbs[::-1]
'''

DICTIONARY = '''\
import numpy as np


def binary_cross_entropy(y_true, y_pred):
    return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))


class TanhClassifier:
    def __init__(self, n_in, n_hidden):
        self.W1 = np.random.randn(n_in, n_hidden) * 0.5
        self.b1 = np.random.randn(n_hidden) * 0.1
        self.W2 = np.random.randn(n_hidden, 1) * 0.5
        self.b2 = np.zeros(1)

    def forward(self, X):
        self.X = X
        self.h = np.tanh(X @ self.W1 + self.b1)
        return 1 / (1 + np.exp(-(self.h @ self.W2 + self.b2)))

    def backward(self, output, target):
        m = len(target)
        d_out = (output - target) / m
        d_h = d_out @ self.W2.T * (1 - self.h ** 2)
        dW1 = self.X.T @ d_h
        db1 = d_h.sum(axis=0)
        return {"dW1": dW1, "db1": db1, "dW2": self.h.T @ d_out, "db2": d_out.sum(axis=0)}
'''

PARAMS_DICT = '''\
import numpy as np


class DictNet:
    def __init__(self, input_dim, hidden_dim, num_classes):
        self.params = {
            "W1": np.random.randn(input_dim, hidden_dim) * 0.3,
            "b1": np.random.randn(hidden_dim) * 0.1,
            "W2": np.random.randn(hidden_dim, num_classes) * 0.3,
            "b2": np.zeros(num_classes),
        }

    def forward(self, X):
        self.X = X
        self.z1 = X @ self.params["W1"] + self.params["b1"]
        self.a1 = np.maximum(0, self.z1)
        scores = self.a1 @ self.params["W2"] + self.params["b2"]
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def loss(self, probs, y):
        return -np.mean(np.log(probs[np.arange(len(y)), y]))

    def backward(self, probs, y):
        n = len(y)
        dscores = probs.copy()
        dscores[np.arange(n), y] -= 1
        dscores /= n
        grads = {}
        grads["W2"] = self.a1.T @ dscores
        grads["b2"] = dscores.sum(axis=0)
        da1 = dscores @ self.params["W2"].T
        dz1 = da1 * (self.z1 > 0)
        grads["W1"] = self.X.T @ dz1
        grads["b1"] = dz1.sum(axis=0)
        return grads
'''

CORRECT_DB = "db = delta.sum(axis=0)"
BUGGY_DB = "db = delta.mean(axis=0)  # BUG: delta is already divided by n"
CORRECT_DH = "d_h = d_out @ self.W2.T * (1 - self.h ** 2)"
BUGGY_DH = "d_h = d_out @ self.W2.T * (1 - self.h)  # BUG: tanh's slope is 1 - h ** 2"


CORRECT_DW1 = 'grads["W1"] = self.X.T @ dz1'
BUGGY_DW1 = 'grads["W1"] = self.X.T @ da1  # BUG: the ReLU mask is left out'


def measured(report: dict, layer: str) -> set[str]:
    return {m["param"] for m in report["measurements"] if m["layer"] == layer}


def test_lists_of_weights_with_a_loss_method_are_checked_and_clean(tmp_path):
    report = check(planted(tmp_path, "mlp.py", LISTS, CORRECT_DB, CORRECT_DB))
    assert errors(report) == [], errors(report)
    assert {"ws[0]", "ws[1]", "bs[0]", "bs[1]"} <= measured(report, "ListMLP")
    model = next(b for b in report["built"] if b["what"] == "ListMLP")
    assert model["skipped"] is None and "ListMLP.loss" in model["shapes"], model


def test_a_bias_gradient_divided_twice_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "mlp.py", LISTS, CORRECT_DB, BUGGY_DB)
    report = check(path)
    wrong = {(f["param"], f["line"]) for f in errors(report)}
    assert wrong and {param for param, _ in wrong} <= {"bs[0]", "bs[1]", "bs[2]"}, errors(report)
    assert {line for _, line in wrong} == {line_of(path, "# BUG")}, errors(report)


def test_a_gradient_dictionary_against_the_files_loss_function_is_clean(tmp_path):
    report = check(planted(tmp_path, "classifier.py", DICTIONARY, CORRECT_DH, CORRECT_DH))
    assert errors(report) == [], errors(report)
    assert measured(report, "TanhClassifier") == {"W1", "b1", "W2", "b2"}
    model = next(b for b in report["built"] if b["what"] == "TanhClassifier")
    assert "binary_cross_entropy" in model["shapes"], model


def test_a_wrong_slope_in_the_dictionary_style_is_found_on_the_first_layer(tmp_path):
    path = planted(tmp_path, "classifier.py", DICTIONARY, CORRECT_DH, BUGGY_DH)
    report = check(path)
    wrong = {f["param"] for f in errors(report) if f["layer"] == "TanhClassifier"}
    assert wrong and wrong <= {"W1", "b1"}, errors(report)
    # named where each wrong gradient is computed from the wrong slope
    assert {f["line"] for f in errors(report)} <= {line_of(path, "dW1 = "), line_of(path, "db1 = "), line_of(path, "# BUG")}, errors(report)


def test_two_loss_functions_leave_the_model_unchecked_rather_than_guess(tmp_path):
    second = DICTIONARY + '''

def squared_error(y_pred, y_true):
    return np.mean((y_pred - y_true) ** 2)
'''
    report = check(planted(tmp_path, "classifier.py", second, CORRECT_DH, CORRECT_DH))
    assert errors(report) == [], errors(report)
    model = next(b for b in report["built"] if b["what"] == "TanhClassifier")
    assert model["skipped"] and "not checked yet" in model["skipped"], model


def test_a_parameter_dictionary_returned_as_gradients_by_key_is_clean(tmp_path):
    report = check(planted(tmp_path, "net.py", PARAMS_DICT, CORRECT_DW1, CORRECT_DW1))
    assert errors(report) == [], errors(report)
    assert measured(report, "DictNet") == {"W1", "b1", "W2", "b2"}


def test_a_left_out_mask_in_the_parameter_dictionary_style_is_named(tmp_path):
    path = planted(tmp_path, "net.py", PARAMS_DICT, CORRECT_DW1, BUGGY_DW1)
    report = check(path)
    assert [(f["param"], f["line"]) for f in errors(report)] == [("W1", line_of(path, "# BUG"))], errors(report)
