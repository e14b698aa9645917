"""Updates whose step lives in a variable of its own: a rate folded into the gradient, a
momentum velocity, a neuron's `delta_O1` paired with `O1_input`.

Beginners' scalar scripts write `grad_w1 = alpha * x1 * delta` then `w1 = w1 + grad_w1`, or keep a
velocity `delta_w5 = E * GRAD_w5 + A * delta_w5` then `w5 = w5 + delta_w5`; course code writes
`v = mu * v - learning_rate * dW` then `W += v`. The replay reads the gradient behind the step
variable, judges every parameter at the scale they share, and a correct twin gets no error.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted, replayed

FOLDED_RATE = """
import numpy as np

x1, x2, x3 = 0.3, 0.4, -0.2
y = 0.6
alpha = 0.1
w1, w2, w3, b = 0.5, -0.3, 0.2, 0.1

for iteration in range(20):
    z = w1 * x1 + w2 * x2 + w3 * x3 + b
    out = 1 / (1 + np.exp(-z))
    e = y - out
    delta = out * (1 - out) * e
    grad_w1 = alpha * x1 * delta
    grad_w2 = alpha * x2 * delta
    grad_w3 = alpha * x3 * delta
    grad_b = alpha * delta
    w1 = w1 + grad_w1
    w2 = w2 + grad_w2
    w3 = w3 + grad_w3
    b = b + grad_b
    print(f"iteration {iteration}: output {out:.5f}")
"""


def test_a_rate_folded_into_scalar_gradients_is_the_programs_scale_not_a_mismatch(tmp_path: Path) -> None:
    path = planted(tmp_path, "one_neuron.py", FOLDED_RATE, "w1 = w1", "w1 = w1")
    report = check(path)
    result = replayed(report)
    assert errors(report) == []
    assert {p["name"] for p in result["parameters"]} == {"w1", "w2", "w3", "b"}


def test_one_scalar_gradient_reading_the_wrong_input_stands_out_from_the_shared_scale(tmp_path: Path) -> None:
    path = planted(tmp_path, "one_neuron.py", FOLDED_RATE, "grad_w2 = alpha * x2 * delta", "grad_w2 = alpha * x1 * delta")
    report = check(path)
    (error,) = errors(report)
    assert error["code"] == "BPD108"
    assert error["line"] in {line_of(path, "grad_w2 = alpha"), line_of(path, "w2 = w2 + grad_w2")}
    assert "w2" in error["message"]


MOMENTUM_NEURONS = """
import math
import random

random.seed(5)


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


E = 0.7  # learning rate
A = 0.3  # momentum
dw1 = dw2 = dw3 = dw4 = dw5 = dw6 = 0.0
samples = [[0, 0, 0], [1, 1, 0], [0, 1, 1], [1, 0, 1]]
w1, w2, w3, w4, w5, w6 = [random.uniform(-1, 1) for _ in range(6)]

for epoch in range(50):
    for I1, I2, target in samples:
        H1_input = I1 * w1 + I2 * w3
        H2_input = I1 * w2 + I2 * w4
        H1_output = sigmoid(H1_input)
        H2_output = sigmoid(H2_input)
        O1_input = H1_output * w5 + H2_output * w6
        O1_output = sigmoid(O1_input)
        error = (target - O1_output) ** 2

        delta_O1 = 2 * (target - O1_output) * O1_output * (1 - O1_output)
        delta_H1 = H1_output * (1 - H1_output) * w5 * delta_O1
        delta_H2 = H2_output * (1 - H2_output) * w6 * delta_O1

        GRAD_w5 = H1_output * delta_O1
        GRAD_w6 = H2_output * delta_O1
        dw5 = E * GRAD_w5 + A * dw5
        dw6 = E * GRAD_w6 + A * dw6
        w5 = w5 + dw5
        w6 = w6 + dw6

        GRAD_w1 = I1 * delta_H1
        GRAD_w2 = I1 * delta_H2
        GRAD_w3 = I2 * delta_H1
        GRAD_w4 = I2 * delta_H2
        dw1 = E * GRAD_w1 + A * dw1
        dw2 = E * GRAD_w2 + A * dw2
        dw3 = E * GRAD_w3 + A * dw3
        dw4 = E * GRAD_w4 + A * dw4
        w1 = w1 + dw1
        w2 = w2 + dw2
        w3 = w3 + dw3
        w4 = w4 + dw4
    print("epoch", epoch, "error", error)
"""


def test_momentum_velocities_in_a_scalar_xor_network_are_read_back_to_their_gradients(tmp_path: Path) -> None:
    path = planted(tmp_path, "xor_momentum.py", MOMENTUM_NEURONS, "error = (", "error = (")
    report = check(path)
    result = replayed(report)
    assert errors(report) == []
    assert {p["name"] for p in result["parameters"]} == {"w1", "w2", "w3", "w4", "w5", "w6"}


def test_a_wrong_sigmoid_slope_in_the_output_delta_is_blamed_at_delta_o1_not_at_the_weights(tmp_path: Path) -> None:
    path = planted(
        tmp_path, "xor_momentum.py", MOMENTUM_NEURONS,
        "delta_O1 = 2 * (target - O1_output) * O1_output * (1 - O1_output)",
        "delta_O1 = 2 * (target - O1_output) * O1_output * (target - O1_output)",
    )  # fmt: skip
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["code"] == "BPD108"
    assert root["line"] == line_of(path, "delta_O1 = 2")
    assert "`delta_O1`" in root["message"] and "`O1_input`" in root["message"]


ARRAY_MOMENTUM = """
import numpy as np

rng = np.random.default_rng(7)
X = rng.standard_normal((64, 4))
Y = (X[:, :1] - X[:, 1:2] > 0).astype(float)
W1 = rng.standard_normal((4, 8)) * 0.5
W2 = rng.standard_normal((8, 1)) * 0.5
v1 = np.zeros_like(W1)
v2 = np.zeros_like(W2)
learning_rate, mu = 0.5, 0.9

for step in range(200):
    H = np.maximum(0, X @ W1)
    P = 1 / (1 + np.exp(-(H @ W2)))
    loss = -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))
    dS = (P - Y) / len(X)
    dW2 = H.T @ dS
    dH = dS @ W2.T
    dH[H <= 0] = 0
    dW1 = X.T @ dH
    v1 = mu * v1 - learning_rate * dW1
    v2 = mu * v2 - learning_rate * dW2
    W1 += v1
    W2 += v2
    if step % 50 == 0:
        print(step, loss)
"""


def test_a_velocity_update_of_arrays_is_replayed_against_the_gradient_inside_it(tmp_path: Path) -> None:
    path = planted(tmp_path, "momentum.py", ARRAY_MOMENTUM, "W1 += v1", "W1 += v1")
    report = check(path)
    result = replayed(report)
    assert errors(report) == []
    assert {p["name"] for p in result["parameters"]} == {"W1", "W2"}


def test_a_transposed_product_inside_a_velocity_update_is_still_found(tmp_path: Path) -> None:
    path = planted(tmp_path, "momentum.py", ARRAY_MOMENTUM, "dW2 = H.T @ dS", "dW2 = (dS.T @ H).T * 2")
    report = check(path)
    (error,) = errors(report)
    assert error["code"] == "BPD108"
    assert error["line"] == line_of(path, "dW2 = (dS.T")


STAGED = """
import numpy as np

P = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
T = np.array([0, 1, 1, 0])
alpha = 0.5

W1 = np.array([[0.1, 0.2], [-0.4, 0.5]])
b1 = np.array([0.3, -0.6])
W2 = np.array([0.7, 0.8])
b2 = np.array([-0.9])

errors = []
for epoch in range(2000):
    count = 0
    err = 0
    for x in P:
        n1 = np.dot(x, W1.T) + b1
        a1 = 1 / (1 + np.exp(-n1))
        n2 = np.dot(a1, W2.T) + b2
        a2 = 1 / (1 + np.exp(-n2))
        err += 0.5 * (T[count] - a2) ** 2

        s2 = -(T[count] - a2) * a2 * (1 - a2)
        new_W2 = W2 - alpha * s2 * a1
        new_b2 = b2 - alpha * s2
        s1 = s2 * W2 * a1 * (1 - a1)
        new_b1 = b1 - alpha * s1
        new_W1 = W1 - alpha * np.outer(s1, x)

        W1 = new_W1
        b1 = new_b1
        W2 = new_W2
        b2 = new_b2
        count += 1
    errors.append(err)
"""


def test_new_values_computed_first_and_stored_later_are_updates_replayed_with_an_accumulated_loss(tmp_path: Path) -> None:
    path = planted(tmp_path, "hagan.py", STAGED, "W1 = new_W1", "W1 = new_W1")
    report = check(path)
    result = replayed(report)
    assert errors(report) == []
    assert result["loss"] == "err"
    assert {p["name"] for p in result["parameters"]} == {"W1", "b1", "W2", "b2"}


def test_a_hidden_delta_without_its_sigmoid_slope_is_caught_in_a_staged_update(tmp_path: Path) -> None:
    path = planted(tmp_path, "hagan.py", STAGED, "s1 = s2 * W2 * a1 * (1 - a1)", "s1 = s2 * W2")
    report = check(path)
    found = errors(report)
    assert found and {f["code"] for f in found} == {"BPD108"}
    root = report["findings"][report["root_cause"]]
    assert root["line"] in {line_of(path, "s1 = s2 * W2"), line_of(path, "new_b1 = "), line_of(path, "new_W1 = ")}
