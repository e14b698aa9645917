"""Training code in the shapes cs231n's and the book's ports give it, which used to be "nothing to
check" or a check mark without a training step: a loop over `past.builtins.xrange` (the `future`
package missing), a classifier's `train(X, y, X_val, y_val, ...)` that the file never calls, a
base class whose `loss` only its subclasses write, and a port of the book's MNIST loader that keeps
its pickle under another name. Each is replayed now, so a flipped update is named at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted, write

XRANGE_SCRIPT = """\
    from past.builtins import xrange
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    W = np.zeros((3, 1))
    for it in xrange(50):
        err = X @ W - y
        loss = np.mean(err ** 2)
        dW = 2 * X.T @ err / len(X)
        W -= 0.1 * dW
"""

CLASSIFIERS = """\
    from __future__ import print_function
    from past.builtins import xrange
    import numpy as np


    class LinearClassifier(object):
        def __init__(self):
            self.W = None

        def train(self, X, y, X_val, y_val, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False):
            num_train, dim = X.shape
            num_classes = np.max(y) + 1
            if self.W is None:
                self.W = 0.001 * np.random.randn(dim, num_classes)
            history = []
            for it in xrange(num_iters):
                mask = np.random.choice(num_train, batch_size, replace=False)
                loss, grad = self.loss(X[mask], y[mask], reg)
                history.append(loss)
                self.W -= learning_rate * grad
            val_accuracy = np.mean(self.predict(X_val) == y_val)
            return history, val_accuracy

        def predict(self, X):
            return np.argmax(X.dot(self.W), axis=1)

        def loss(self, X_batch, y_batch, reg):
            pass


    class Softmax(LinearClassifier):
        def loss(self, X_batch, y_batch, reg):
            n = X_batch.shape[0]
            scores = X_batch.dot(self.W)
            scores -= scores.max(axis=1, keepdims=True)
            p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
            loss = -np.log(p[np.arange(n), y_batch]).sum() / n + reg * np.sum(self.W * self.W)
            p[np.arange(n), y_batch] -= 1
            dW = X_batch.T.dot(p) / n + 2 * reg * self.W
            return loss, dW
"""


def test_a_loop_over_past_builtins_xrange_runs_and_is_replayed(tmp_path: Path) -> None:
    report = check(write(tmp_path, "fit.py", XRANGE_SCRIPT))
    assert errors(report) == []
    assert report["verdict"].startswith("✓") and "1 training step" in report["verdict"]
    note = next(f for f in report["findings"] if f["name"] == "missing-module")
    assert "`xrange`" in note["message"] and "Python 3 meaning" in note["message"]
    path = planted(tmp_path, "fit.py", XRANGE_SCRIPT, "W -= 0.1 * dW", "W += 0.1 * dW")
    (finding,) = errors(check(path))
    assert finding["name"] == "step-gradient-mismatch" and finding["line"] == line_of(path, "W += 0.1 * dW")


@pytest.mark.parametrize("sign", ["-=", "+="])
def test_a_train_method_never_called_is_driven_through_the_subclass_that_writes_the_loss(tmp_path: Path, sign: str) -> None:
    path = planted(tmp_path, "linear_classifier.py", CLASSIFIERS, "self.W -= learning_rate", f"self.W {sign} learning_rate")
    report = check(path)
    (step,) = report["extras"]["replay"]
    assert step["driver"] is not None and step["driver"].startswith("Softmax(")
    assert "X_val" in step["driver"] and "batch_size=8" in step["driver"]
    wrong = [(f["name"], f["line"]) for f in errors(report)]
    if sign == "-=":
        assert wrong == []
    else:
        assert wrong == [("step-gradient-mismatch", line_of(path, "self.W += learning_rate"))]


MNIST_PORT = """\
    import os
    import pickle
    import urllib.request

    import numpy as np

    dataset_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    save_path = os.path.join(dataset_dir, "mnist.pkl")


    def load_mnist(normalize=True, flatten=True, one_hot_label=False):
        if not os.path.exists(save_path):
            urllib.request.urlretrieve("http://example.com/mnist.gz", os.path.join(dataset_dir, "mnist.gz"))
        with open(save_path, "rb") as f:
            dataset = pickle.load(f)
        return (dataset["train_img"], dataset["train_label"]), (dataset["test_img"], dataset["test_label"])
"""

MNIST_SCRIPT = """\
    import numpy as np
    from common.mnist import load_mnist

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    W = 0.01 * np.random.randn(784, 10)
    for i in range(20):
        idx = np.random.choice(x_train.shape[0], 10)
        x, t = x_train[idx], t_train[idx]
        s = x @ W
        e = np.exp(s - s.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.sum(t * np.log(p + 1e-7)) / len(x)
        dW = x.T @ (p - t) / len(x)
        W -= 0.1 * dW
"""


def test_a_port_of_the_book_s_mnist_loader_with_its_own_pickle_name_gets_synthetic_data(tmp_path: Path) -> None:
    write(tmp_path, "common/__init__.py", "")
    write(tmp_path, "common/mnist.py", MNIST_PORT)
    report = check(write(tmp_path, "train.py", MNIST_SCRIPT))
    assert "sandbox-blocked" not in {f["name"] for f in report["findings"]}
    assert errors(report) == []
    assert "1 training step" in report["verdict"]
    assert not (tmp_path / "common" / "data").exists()


LOGISTIC = """\
    import numpy as np


    class LogisticRegression:
        def __init__(self):
            self.w, self.b = None, 0.0

        def __forward(self, X):
            return 1 / (1 + np.exp(-(self.w.T @ X + self.b)))

        def __cost(self, A, Y):
            m = A.shape[1]
            return -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m

        def __backward(self, A, X, Y):
            m = X.shape[1]
            dw = np.dot(X, (A - Y).T) / m
            db = np.sum(A - Y) / m
            grads = {"dw": dw, "db": db}
            return grads

        def __update(self, grads, learning_rate):
            self.w -= learning_rate * grads["dw"]
            self.b -= learning_rate * grads["db"]

        def fit(self, X, Y, num_iterations, learning_rate):
            self.w = np.zeros((X.shape[0], 1))
            for i in range(num_iterations):
                A = self.__forward(X)
                cost = self.__cost(A, Y)
                grads = self.__backward(A, X, Y)
                self.__update(grads, learning_rate)
            return cost
"""


def test_a_gradient_stored_in_a_dict_literal_is_blamed_where_its_name_is_computed(tmp_path: Path) -> None:
    assert errors(check(write(tmp_path, "logistic.py", LOGISTIC))) == []
    path = planted(tmp_path, "logistic.py", LOGISTIC, "dw = np.dot(X, (A - Y).T) / m", "dw = np.dot(X, (A - Y).T)")
    (finding,) = errors(check(path))
    assert finding["name"] == "step-gradient-mismatch"
    assert finding["line"] == line_of(path, "dw = np.dot(X, (A - Y).T)")
    assert f"computed at line {line_of(path, 'dw = np.dot(X, (A - Y).T)')}" in finding["message"]


PERCEPTRON = """\
    import numpy as np


    class SquareLoss:
        def loss(self, y, y_pred):
            return 0.5 * np.power((y - y_pred), 2)

        def gradient(self, y, y_pred):
            return -(y - y_pred)


    class Sigmoid:
        def __call__(self, x):
            return 1 / (1 + np.exp(-x))

        def gradient(self, x):
            return self.__call__(x) * (1 - self.__call__(x))


    class Perceptron:
        def __init__(self, n_iterations=200, learning_rate=0.01):
            self.n_iterations = n_iterations
            self.learning_rate = learning_rate
            self.loss = SquareLoss()
            self.activation = Sigmoid()

        def fit(self, X, y):
            n_features, n_outputs = X.shape[1], y.shape[1]
            self.W = np.random.uniform(-0.3, 0.3, (n_features, n_outputs))
            self.w0 = np.zeros((1, n_outputs))
            for i in range(self.n_iterations):
                linear = X.dot(self.W) + self.w0
                y_pred = self.activation(linear)
                error = self.loss.gradient(y, y_pred) * self.activation.gradient(linear)
                self.W -= self.learning_rate * X.T.dot(error)
                self.w0 -= self.learning_rate * np.sum(error, axis=0, keepdims=True)
"""


def test_a_loss_object_giving_one_loss_per_element_is_summed_for_the_replay(tmp_path: Path) -> None:
    report = check(write(tmp_path, "perceptron.py", PERCEPTRON))
    assert errors(report) == [] and "1 training step" in report["verdict"]
    (step,) = report["extras"]["replay"]
    assert step["loss"] == "self.loss.loss" and step["driver"].startswith("Perceptron(")
    path = planted(tmp_path, "perceptron.py", PERCEPTRON, "self.W -= self.learning_rate", "self.W += self.learning_rate")
    (finding,) = errors(check(path))
    assert finding["name"] == "step-gradient-mismatch" and finding["line"] == line_of(path, "self.W += self.learning_rate")
