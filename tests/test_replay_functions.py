"""The replay reaches into the functions a training loop calls.

Programs that keep the loop short (`A2, cache = forward(X, params)`, `grads =
backward(params, cache, X, Y)`) compute their adjoints inside functions. A bug
there must be reported at the adjoint's own line, ahead of the wrong parameter
gradients it feeds; a gradient that is merely never divided by the batch size
must not be blamed on the adjoints that (by the program's own convention)
differentiate the summed loss. Every program is a real file checked by the CLI.
"""

from __future__ import annotations

import sys

import pytest
from userfiles import check, errors, line_of, planted, write

from backprop_doctor.replay.inner import Hooks
from backprop_doctor.static.step_functions import Site

# Coursera-style: parameters in a dictionary, forward/cost/backward/update functions, (features, batch) layout
DICTS = """
import numpy as np


def initialize(n_x, n_h, n_y):
    np.random.seed(2)
    return {"W1": np.random.randn(n_h, n_x) * 0.5, "b1": np.zeros((n_h, 1)),
            "W2": np.random.randn(n_y, n_h) * 0.5, "b2": np.zeros((n_y, 1))}


def forward_propagation(X, parameters):
    Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)


def backward_propagation(parameters, cache, X, Y):
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    dZ2 = A2 - Y
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dA1 = np.dot(parameters["W2"].T, dZ2)
    dZ1 = dA1 * (1 - np.power(A1, 2))
    dW1 = np.dot(dZ1, X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters, grads, learning_rate=1.2):
    for key in ("W1", "b1", "W2", "b2"):
        parameters[key] = parameters[key] - learning_rate * grads["d" + key]
    return parameters


def nn_model(X, Y, n_h, num_iterations=5000):
    parameters = initialize(X.shape[0], n_h, Y.shape[0])
    for i in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        cost = compute_cost(A2, Y)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads)
        if i % 1000 == 0:
            print("Cost after iteration %i: %f" % (i, cost))
    return parameters


if __name__ == "__main__":
    rng = np.random.RandomState(1)
    X = rng.randn(2, 200)
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    nn_model(X, Y, 4)
"""

# f_propagation / b_propagation returning tuples, ReLU hidden layer, a squared-error loss, module-level loop
TUPLES = """
import numpy as np

rng = np.random.default_rng(7)
X = rng.standard_normal((64, 5))
T = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]
W1 = rng.standard_normal((5, 16)) * 0.4
b1 = np.zeros((1, 16))
W2 = rng.standard_normal((16, 1)) * 0.4
b2 = np.zeros((1, 1))


def f_propagation(X, W1, b1, W2, b2):
    h_in = X.dot(W1) + b1
    h = np.maximum(h_in, 0)
    out = h.dot(W2) + b2
    return h_in, h, out


def b_propagation(X, T, h_in, h, out, W2):
    n = X.shape[0]
    d_out = (out - T) / n
    dW2 = h.T.dot(d_out)
    db2 = d_out.sum(axis=0, keepdims=True)
    d_h = d_out.dot(W2.T)
    d_h_in = d_h * (h_in > 0)
    dW1 = X.T.dot(d_h_in)
    db1 = d_h_in.sum(axis=0, keepdims=True)
    return dW1, db1, dW2, db2


alpha = 0.05
for epoch in range(2000):
    h_in, h, out = f_propagation(X, W1, b1, W2, b2)
    E = 0.5 * np.sum((out - T) ** 2) / X.shape[0]
    dW1, db1, dW2, db2 = b_propagation(X, T, h_in, h, out, W2)
    W1 = W1 - alpha * dW1
    b1 = b1 - alpha * db1
    W2 = W2 - alpha * dW2
    b2 = b2 - alpha * db2
"""


def replayed(report: dict) -> dict:
    (result,) = report["extras"]["replay"]
    assert result["not_replayed"] is None, result
    return result


@pytest.mark.parametrize("name, text", [("planar.py", DICTS), ("tuples.py", TUPLES)])
def test_a_correct_program_whose_adjoints_live_in_functions_gets_no_error(tmp_path, name, text):
    report = check(write(tmp_path, name, text))
    assert errors(report) == []
    assert not any(a["wrong"] for a in replayed(report)["adjoints"])


def test_a_wrong_tanh_derivative_inside_backward_is_the_root_cause_at_its_line(tmp_path):
    path = planted(tmp_path, "planar.py", DICTS, "dZ1 = dA1 * (1 - np.power(A1, 2))", "dZ1 = dA1 * (1 - A1)")
    report = check(path)
    line = line_of(path, "dZ1 = dA1 * (1 - A1)")
    root = report["findings"][0]
    assert (root["name"], root["line"], root["param"]) == ("step-gradient-mismatch", line, "dZ1")
    assert "`dA1`" in root["message"] and "is right" in root["message"]  # the statement's input is right: this is the bug
    assert [a["name"] for a in replayed(report)["adjoints"] if a["wrong"]] == ["dZ1"]
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {"parameters['W1']", "parameters['b1']"}


def test_a_gradient_not_divided_by_the_batch_is_not_blamed_on_the_adjoints_that_feed_it(tmp_path):
    # dZ2 and dZ1 differentiate the summed cost (the program divides by m in dW, db): that is its scale, not a bug
    path = planted(tmp_path, "planar.py", DICTS, "dW1 = np.dot(dZ1, X.T) / m", "dW1 = np.dot(dZ1, X.T)")
    report = check(path)
    assert not any(a["wrong"] for a in replayed(report)["adjoints"])
    line = line_of(path, "dW1 = np.dot(dZ1, X.T)")
    assert report["findings"][0]["line"] == line
    (w1,) = [p for p in replayed(report)["parameters"] if p["name"] == "parameters['W1']"]
    assert w1["wrong"] and w1["factor"] == pytest.approx(200, rel=1e-3)


def test_a_relu_mask_on_the_wrong_array_in_a_tuple_function_is_blamed_at_that_line(tmp_path):
    path = planted(tmp_path, "tuples.py", TUPLES, "d_h_in = d_h * (h_in > 0)", "d_h_in = d_h * (d_h > 0)")
    report = check(path)
    line = line_of(path, "d_h_in = d_h * (d_h > 0)")
    (finding,) = [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]
    assert (finding["line"], finding["param"]) == (line, "d_h_in")
    assert "`d_h`" in finding["message"]


def test_a_forward_function_called_twice_in_a_step_is_not_reached_into(tmp_path):
    # forward_propagation runs for the cost and again for the gradient: its locals have no single value
    # per step, so no adjoint is paired with them; the bug is still reported (by the gradient check of
    # the function pair), and no adjoint of the step is blamed for it
    text = DICTS.replace(
        "grads = backward_propagation(parameters, cache, X, Y)",
        "grads = backward_propagation(parameters, forward_propagation(X, parameters)[1], X, Y)",
    )
    correct = check(write(tmp_path, "planar.py", text))
    assert errors(correct) == []
    path = planted(tmp_path, "buggy.py", text, "dZ1 = dA1 * (1 - np.power(A1, 2))", "dZ1 = dA1 * (1 - A1)")
    report = check(path)
    assert errors(report)
    assert not any(f["name"] == "step-gradient-mismatch" for f in report["findings"])
    assert not any(a["wrong"] for a in replayed(report)["adjoints"])


def test_reaching_into_frames_puts_back_the_tracer_that_was_running():
    def user_function(x):
        y = x * 2
        return y + 1

    seen: list[str] = []

    def outer(frame, event, arg):
        seen.append(event)
        return None

    code = user_function.__code__
    line = code.co_firstlineno + 1
    previous = sys.gettrace()
    sys.settrace(outer)
    try:
        hooks = Hooks({"user_function": code})
        hooks.after(Site("user_function", code.co_firstlineno, line, line), "y", lambda y: y + 100)
        with hooks:
            result = user_function(1)
        assert sys.gettrace() is outer
    finally:
        sys.settrace(previous)
    assert result == 103  # y moved by 100 right after `y = x * 2`, before `return y + 1` read it
    assert hooks.calls == {"user_function": 1}
