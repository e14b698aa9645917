"""A wrong gradient is reported where it is computed, not where it is passed along: a dictionary
entry filled from a function's returned tuple (`grads['dW' + str(l)], ... = self.__linear_backward(...)`)
or a plain name stored (`grads["dW" + str(i)] = dW_curr`) is followed into the function that computes
it, in the training-step replay and in the function-network check alike."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from backprop_doctor.static.origins import computed_at, entry_computed_at
from tests.userfiles import check, errors, line_of, planted, write

DEEP = """\
    import numpy as np


    class DeepNetwork:
        def __init__(self, dims):
            rng = np.random.default_rng(0)
            self.L = len(dims)
            self.parameters = {}
            for l in range(1, self.L):
                self.parameters["W" + str(l)] = rng.standard_normal((dims[l], dims[l - 1])) * 0.3
                self.parameters["b" + str(l)] = np.zeros((dims[l], 1))

        def __forward(self, X):
            caches = [{"A": X}]
            A = X
            for l in range(1, self.L):
                Z = self.parameters["W" + str(l)] @ A + self.parameters["b" + str(l)]
                A = 1 / (1 + np.exp(-Z)) if l == self.L - 1 else np.tanh(Z)
                caches.append({"A": A, "Z": Z})
            return A, caches

        def __linear_backward(self, dZ, A_prev, W):
            m = A_prev.shape[1]
            dW = np.dot(dZ, A_prev.T) / m
            db = np.sum(dZ, axis=1, keepdims=True) / m
            dA_prev = np.dot(W.T, dZ)
            return dA_prev, dW, db

        def __backward(self, caches, Y):
            grads = {}
            L = self.L
            dZ = caches[L - 1]["A"] - Y
            for l in reversed(range(1, L)):
                grads["dA" + str(l - 1)], grads["dW" + str(l)], grads["db" + str(l)] = self.__linear_backward(
                    dZ, caches[l - 1]["A"], self.parameters["W" + str(l)]
                )
                if l > 1:
                    dZ = grads["dA" + str(l - 1)] * (1 - caches[l - 1]["A"] ** 2)
            return grads

        def fit(self, X, Y, num_iterations, learning_rate):
            for i in range(num_iterations):
                AL, caches = self.__forward(X)
                cost = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
                grads = self.__backward(caches, Y)
                for l in range(1, self.L):
                    self.parameters["W" + str(l)] -= learning_rate * grads["dW" + str(l)]
                    self.parameters["b" + str(l)] -= learning_rate * grads["db" + str(l)]
            return cost


    if __name__ == "__main__":
        rng = np.random.default_rng(1)
        X = rng.standard_normal((3, 40))
        Y = (X[:1] * X[1:2] > 0).astype(float)
        print(DeepNetwork([3, 5, 1]).fit(X, Y, 20, 0.5))
"""

FUNCTIONS = """\
    import numpy as np


    def full_forward(X, params):
        Z1 = params["W1"] @ X + params["b1"]
        A1 = np.tanh(Z1)
        Z2 = params["W2"] @ A1 + params["b2"]
        A2 = 1 / (1 + np.exp(-Z2))
        return A2, {"A0": X, "A1": A1, "A2": A2}


    def single_layer_backward(dZ, W, A_prev):
        m = A_prev.shape[1]
        dW_curr = np.dot(dZ, A_prev.T) / m
        db_curr = np.sum(dZ, axis=1, keepdims=True) / m
        return np.dot(W.T, dZ), dW_curr, db_curr


    def full_backward(Y_hat, Y, memory, params):
        grads = {}
        dZ = Y_hat - Y
        for i in (2, 1):
            dA, dW_curr, db_curr = single_layer_backward(dZ, params["W" + str(i)], memory["A" + str(i - 1)])
            grads["dW" + str(i)] = dW_curr
            grads["db" + str(i)] = db_curr
            dZ = dA * (1 - memory["A" + str(i - 1)] ** 2)
        return grads


    def initialize_parameters(layer_dims):
        rng = np.random.default_rng(0)
        params = {}
        for l in range(1, len(layer_dims)):
            params["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * 0.5
            params["b" + str(l)] = np.zeros((layer_dims[l], 1))
        return params
"""


def test_an_entry_filled_from_a_returned_tuple_is_blamed_in_the_function_that_computes_it(tmp_path: Path) -> None:
    assert errors(check(write(tmp_path, "deep.py", DEEP))) == []
    path = planted(tmp_path, "deep.py", DEEP, "dW = np.dot(dZ, A_prev.T) / m", "dW = np.dot(dZ, A_prev.T)")
    (finding,) = errors(check(path))
    assert finding["name"] == "step-gradient-mismatch"
    assert finding["line"] == line_of(path, "dW = np.dot(dZ, A_prev.T)")


def test_a_stored_name_in_a_function_network_is_blamed_where_it_is_computed(tmp_path: Path) -> None:
    path = planted(tmp_path, "functions.py", FUNCTIONS, "dW_curr = np.dot(dZ, A_prev.T) / m", "dW_curr = np.dot(dZ, A_prev.T)")
    wrong = [f for f in errors(check(path)) if not f.get("caused_by")]
    assert wrong and wrong[0]["line"] == line_of(path, "dW_curr = np.dot(dZ, A_prev.T)")


def test_origins_follow_copies_and_returns_and_stop_at_a_computation() -> None:
    source = textwrap.dedent(FUNCTIONS)
    tree = ast.parse(source)
    lines = source.splitlines()

    def at(text: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if text in line)

    assert computed_at(tree, at('grads["dW" + str(i)] = dW_curr')) == at("dW_curr = np.dot(dZ, A_prev.T) / m")
    assert computed_at(tree, at("dZ = dA * (1 - memory")) is None  # computes its value itself
    assert entry_computed_at(tree, "grads", "db") == at("db_curr = np.sum(dZ, axis=1, keepdims=True) / m")
    deep = textwrap.dedent(DEEP)
    deep_lines = deep.splitlines()
    assert entry_computed_at(ast.parse(deep), "grads", "dW") == next(i for i, line in enumerate(deep_lines, 1) if "dW = np.dot(dZ, A_prev.T) / m" in line)


NETWORK = """\
    import numpy as np


    class TwoLayerNet:
        def __init__(self, input_size, hidden_size, output_size):
            rng = np.random.default_rng(0)
            self.params = {"W1": 0.1 * rng.standard_normal((input_size, hidden_size)), "b1": np.zeros(hidden_size),
                           "W2": 0.1 * rng.standard_normal((hidden_size, output_size)), "b2": np.zeros(output_size)}

        def loss(self, x, t):
            z = 1 / (1 + np.exp(-(x @ self.params["W1"] + self.params["b1"])))
            a = z @ self.params["W2"] + self.params["b2"]
            e = np.exp(a - a.max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
            return -np.sum(t * np.log(y + 1e-7)) / len(x)

        def gradient(self, x, t):
            z = 1 / (1 + np.exp(-(x @ self.params["W1"] + self.params["b1"])))
            a = z @ self.params["W2"] + self.params["b2"]
            e = np.exp(a - a.max(axis=1, keepdims=True))
            dy = (e / e.sum(axis=1, keepdims=True) - t) / len(x)
            dW2 = z.T @ dy
            db2 = np.sum(dy, axis=0)
            da = dy @ self.params["W2"].T * z * (1 - z)
            dW1 = x.T @ da
            db1 = np.sum(da, axis=0)
            return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
"""


@pytest.mark.parametrize(("correct", "wrong", "code"), [("db2 = np.sum(dy, axis=0)", "db2 = np.sum(dy)", "BPD102"), ("dW2 = z.T @ dy", "dW2 = z.T @ dy * 2", "BPD101")])
def test_a_gradient_returned_in_a_dict_literal_is_blamed_where_its_name_is_computed(tmp_path: Path, correct: str, wrong: str, code: str) -> None:
    path = planted(tmp_path, "net.py", NETWORK, correct, wrong)
    found = [(f["code"], f["line"]) for f in errors(check(path)) if not f.get("caused_by")]
    assert found == [(code, line_of(path, wrong))]


DLFS2_AFFINE = """\
    import numpy as np


    class Affine:
        def __init__(self, W, b):
            self.params = [W, b]
            self.grads = [np.zeros_like(W), np.zeros_like(b)]
            self.x = None

        def forward(self, x):
            W, b = self.params
            self.x = x
            return np.dot(x, W) + b

        def backward(self, dout):
            W, b = self.params
            dx = np.dot(dout, W.T)
            dW = np.dot(self.x.T, dout)
            db = np.sum(dout, axis=0)
            self.grads[0][...] = dW
            self.grads[1][...] = db.copy()
            return dx
"""


def test_a_gradient_copied_into_a_grads_list_is_blamed_where_it_is_computed(tmp_path: Path) -> None:
    assert errors(check(write(tmp_path, "layers.py", DLFS2_AFFINE))) == []
    path = planted(tmp_path, "layers.py", DLFS2_AFFINE, "db = np.sum(dout, axis=0)", "db = np.mean(dout, axis=0)")
    (finding,) = errors(check(path))
    assert (finding["name"], finding["line"]) == ("gradient-mismatch", line_of(path, "db = np.mean(dout, axis=0)"))


def test_an_array_filled_slice_by_slice_is_blamed_at_the_slice_not_at_its_zeros() -> None:
    source = textwrap.dedent("""\
        import numpy as np


        def seq_backward(dh, caches, step_backward):
            n, m, T = dh.shape
            dx = np.zeros((n, m, T))
            dW = 0.0
            for t in reversed(range(T)):
                grads = step_backward(dh[:, :, t], caches[t])
                dx[:, :, t] = grads["dx"]
                dW += grads["dW"]
            grads = {"dx": dx, "dW": dW}
            return grads
    """)
    lines = source.splitlines()
    store = next(i for i, line in enumerate(lines, 1) if 'grads = {"dx": dx' in line)
    assert computed_at(ast.parse(source), store, "x") == next(i for i, line in enumerate(lines, 1) if "dx[:, :, t] =" in line)
    assert computed_at(ast.parse(source), store, "W") == next(i for i, line in enumerate(lines, 1) if 'dW += grads["dW"]' in line)
