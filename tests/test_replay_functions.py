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
from userfiles import check, errors, line_of, planted, replayed, write

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


# gradient ASCENT on a log-likelihood, derivatives written as functions, the cost printed every 100 epochs
ASCENT = """
import numpy as np


def forward(X, W1, b1, W2, b2):
    Z = 1 / (1 + np.exp(-X.dot(W1) - b1))
    A = Z.dot(W2) + b2
    expA = np.exp(A - A.max(axis=1, keepdims=True))
    return expA / expA.sum(axis=1, keepdims=True), Z


def derivative_w2(Z, T, Y):
    return Z.T.dot(T - Y)


def derivative_b2(T, Y):
    return (T - Y).sum(axis=0)


def derivative_w1(X, Z, T, Y, W2):
    dZ = (T - Y).dot(W2.T) * Z * (1 - Z)
    return X.T.dot(dZ)


def derivative_b1(T, Y, W2, Z):
    return ((T - Y).dot(W2.T) * Z * (1 - Z)).sum(axis=0)


def cost(T, Y):
    return (T * np.log(Y)).sum()


def main():
    np.random.seed(1)
    X = np.vstack([np.random.randn(100, 2) + c for c in ([0, -2], [2, 2], [-2, 2])])
    Y = np.array([0] * 100 + [1] * 100 + [2] * 100)
    T = np.zeros((300, 3))
    T[np.arange(300), Y] = 1
    W1, b1 = np.random.randn(2, 4), np.random.randn(4)
    W2, b2 = np.random.randn(4, 3), np.random.randn(3)
    learning_rate = 1e-3
    costs = []
    for epoch in range(1000):
        output, hidden = forward(X, W1, b1, W2, b2)
        if epoch % 100 == 0:
            c = cost(T, output)
            print("cost:", c)
            costs.append(c)
        gW2 = derivative_w2(hidden, T, output)
        gb2 = derivative_b2(T, output)
        gW1 = derivative_w1(X, hidden, T, output, W2)
        gb1 = derivative_b1(T, output, W2, hidden)
        W2 += learning_rate * gW2
        b2 += learning_rate * gb2
        W1 += learning_rate * gW1
        b1 += learning_rate * gb1


if __name__ == "__main__":
    main()
"""


def test_gradient_ascent_on_a_log_likelihood_printed_now_and_then_gets_no_error(tmp_path):
    report = check(write(tmp_path, "ascent.py", ASCENT))
    assert errors(report) == []
    result = replayed(report)
    assert result["loss"] == "c"  # the cost the loop computes every 100 epochs, recomputed at every replay
    assert len(result["parameters"]) == 4 and not any(p["wrong"] for p in result["parameters"])


def test_gradient_ascent_with_a_missing_sigmoid_derivative_is_blamed_at_that_adjoint(tmp_path):
    path = planted(tmp_path, "ascent.py", ASCENT, "dZ = (T - Y).dot(W2.T) * Z * (1 - Z)", "dZ = (T - Y).dot(W2.T) * Z")
    report = check(path)
    (finding,) = [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]
    assert (finding["line"], finding["param"]) == (line_of(path, "dZ = (T - Y).dot(W2.T) * Z"), "dZ")
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {"W1"}  # b1's derivative is written separately, and right


# a tutorial classic: make_moons from scikit-learn (missing here), a Config class holding the rate as
# `epsilon`, gradients of the summed loss, and a mean loss only printed every 1000 passes
MOONS = """
import numpy as np
from sklearn import datasets


class Config:
    nn_input_dim = 2
    nn_output_dim = 2
    epsilon = 0.01
    reg_lambda = 0.01


def calculate_loss(model, X, y):
    num_examples = len(X)
    W1, b1, W2, b2 = model["W1"], model["b1"], model["W2"], model["b2"]
    a1 = np.tanh(X.dot(W1) + b1)
    scores = a1.dot(W2) + b2
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
    data_loss = np.sum(-np.log(probs[range(num_examples), y]))
    data_loss += Config.reg_lambda / 2 * (np.sum(np.square(W1)) + np.sum(np.square(W2)))
    return 1.0 / num_examples * data_loss


def build_model(X, y, nn_hdim, num_passes=20000, print_loss=False):
    num_examples = len(X)
    np.random.seed(0)
    W1 = np.random.randn(Config.nn_input_dim, nn_hdim) / np.sqrt(Config.nn_input_dim)
    b1 = np.zeros((1, nn_hdim))
    W2 = np.random.randn(nn_hdim, Config.nn_output_dim) / np.sqrt(nn_hdim)
    b2 = np.zeros((1, Config.nn_output_dim))
    model = {}
    for i in range(num_passes):
        z1 = X.dot(W1) + b1
        a1 = np.tanh(z1)
        z2 = a1.dot(W2) + b2
        probs = np.exp(z2) / np.sum(np.exp(z2), axis=1, keepdims=True)
        delta3 = probs
        delta3[range(num_examples), y] -= 1
        dW2 = a1.T.dot(delta3)
        db2 = np.sum(delta3, axis=0, keepdims=True)
        delta2 = delta3.dot(W2.T) * (1 - np.power(a1, 2))
        dW1 = np.dot(X.T, delta2)
        db1 = np.sum(delta2, axis=0, keepdims=True)
        dW2 += Config.reg_lambda * W2
        dW1 += Config.reg_lambda * W1
        W1 += -Config.epsilon * dW1
        b1 += -Config.epsilon * db1
        W2 += -Config.epsilon * dW2
        b2 += -Config.epsilon * db2
        model = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        if print_loss and i % 1000 == 0:
            print("Loss after iteration %i: %f" % (i, calculate_loss(model, X, y)))
    return model


if __name__ == "__main__":
    np.random.seed(0)
    X, y = datasets.make_moons(200, noise=0.20)
    build_model(X, y, 3, print_loss=True)
"""


def test_a_loss_only_printed_now_and_then_is_the_one_replayed_and_its_mean_scale_is_no_error(tmp_path):
    report = check(write(tmp_path, "moons.py", MOONS))
    assert [f for f in report["findings"] if f["severity"] != "info"] == []
    result = replayed(report)
    assert result["loss"] == "calculate_loss"
    factors = {p["name"]: p["factor"] for p in result["parameters"]}
    assert set(factors) == {"W1", "b1", "W2", "b2"}
    assert all(abs(f - 200) < 1e-3 * 200 for f in factors.values())  # gradients of the sum, a mean printed: 200 samples
    verdicts = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
    assert set(verdicts.values()) == {"ok"}  # judged at the program's own scale
    assert any(f["name"] == "synthetic-data" and "make_moons" in f["message"] for f in report["findings"])


def test_the_printed_loss_still_finds_a_wrong_derivative(tmp_path):
    path = planted(tmp_path, "moons.py", MOONS, "delta2 = delta3.dot(W2.T) * (1 - np.power(a1, 2))", "delta2 = delta3.dot(W2.T) * (1 - a1)")
    report = check(path)
    (finding,) = [f for f in errors(report) if f["name"] == "step-gradient-mismatch"]
    assert (finding["line"], finding["param"]) == (line_of(path, "delta2 = delta3.dot(W2.T) * (1 - a1)"), "delta2")


def test_the_curve_of_a_climbed_log_likelihood_is_judged_as_its_negative(tmp_path):
    """The loop climbs `c` (a log-likelihood, below 0): its own curve, replayed, goes up, which is
    learning. The curve is kept as −c, so it falls and no rate finding says the loss rises."""
    report = check(write(tmp_path, "ascent.py", ASCENT), training=True)
    result = replayed(report)
    assert result["maximised"] is True
    curve = result["curve"]
    assert len(curve) >= 10 and curve[0] > 0 and curve[-1] < curve[0]
    assert {f["code"] for f in report["findings"]}.isdisjoint({"BPD608", "BPD609", "BPD610"})
