"""A network described by a list of layer dictionaries, in plain functions (a popular blog layout).

`init_layers(nn_architecture)` builds `params_values` from `[{"input_dim": 2, "output_dim": 4,
"activation": "relu"}, ...]`; `full_forward_propagation(X, params_values, nn_architecture)`
returns the output and a `memory` dictionary; `full_backward_propagation(Y_hat, Y, memory,
params_values, nn_architecture)` the gradients `dW1`, `db1`, ... Such files used to fail to build
("cannot guess a value for `params_values`"). The cost of that layout smooths its logarithm
(`log(Y_hat + eps)` with `eps=0.001`) while the backward differentiates the exact cross-entropy:
the gradients are checked against the loss they belong to, so correct code is clean.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NETWORK = '''\
import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def relu(Z):
    return np.maximum(0, Z)


def init_layers(nn_architecture, seed=7):
    np.random.seed(seed)
    params_values = {}
    for idx, layer in enumerate(nn_architecture):
        n = idx + 1
        params_values["W" + str(n)] = np.random.randn(layer["output_dim"], layer["input_dim"]) * 0.5
        params_values["b" + str(n)] = np.random.randn(layer["output_dim"], 1) * 0.1
    return params_values


def full_forward_propagation(X, params_values, nn_architecture):
    memory = {}
    A_curr = X
    for idx, layer in enumerate(nn_architecture):
        n = idx + 1
        A_prev = A_curr
        Z_curr = np.dot(params_values["W" + str(n)], A_prev) + params_values["b" + str(n)]
        A_curr = relu(Z_curr) if layer["activation"] == "relu" else sigmoid(Z_curr)
        memory["A" + str(idx)] = A_prev
        memory["Z" + str(n)] = Z_curr
    return A_curr, memory


def get_cost_value(Y_hat, Y, eps=0.001):
    m = Y_hat.shape[1]
    cost = -1 / m * (np.dot(Y, np.log(Y_hat + eps).T) + np.dot(1 - Y, np.log(1 - Y_hat + eps).T))
    return np.squeeze(cost)


def full_backward_propagation(Y_hat, Y, memory, params_values, nn_architecture):
    grads_values = {}
    m = Y.shape[1]
    dA_prev = -(np.divide(Y, Y_hat) - np.divide(1 - Y, 1 - Y_hat))
    for idx, layer in reversed(list(enumerate(nn_architecture))):
        n = idx + 1
        A_prev = memory["A" + str(idx)]
        Z_curr = memory["Z" + str(n)]
        if layer["activation"] == "relu":
            dZ_curr = dA_prev * (Z_curr > 0)
        else:
            s = sigmoid(Z_curr)
            dZ_curr = dA_prev * s * (1 - s)
        grads_values["dW" + str(n)] = np.dot(dZ_curr, A_prev.T) / m
        grads_values["db" + str(n)] = np.sum(dZ_curr, axis=1, keepdims=True) / m
        dA_prev = np.dot(params_values["W" + str(n)].T, dZ_curr)
    return grads_values
'''

LABEL = "full_forward_propagation/full_backward_propagation"


def test_a_correct_architecture_list_network_is_built_and_clean(tmp_path):
    report = check(write(tmp_path, "plain_numpy_nn.py", NETWORK))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == LABEL} == {"W1", "b1", "W2", "b2", "W3", "b3"}
    (built,) = [b for b in report["built"] if b["what"] == LABEL]
    assert "the exact cross-entropy (your `get_cost_value` adds its `eps` inside the log" in built["shapes"]


def test_a_missing_division_by_m_in_the_bias_gradient_is_found_at_its_line(tmp_path):
    path = planted(
        tmp_path, "plain_numpy_nn.py", NETWORK,
        'np.sum(dZ_curr, axis=1, keepdims=True) / m', 'np.sum(dZ_curr, axis=1, keepdims=True)',
    )  # fmt: skip
    found = {(f["code"], f["param"], f["line"]) for f in errors(check(path))}
    line = line_of(path, 'grads_values["db" + str(n)] = np.sum(dZ_curr, axis=1, keepdims=True)')
    assert found == {("BPD101", p, line) for p in ("b1", "b2", "b3")}


def test_a_backward_that_matches_neither_loss_is_still_checked_against_the_files_own_cost(tmp_path):
    """A real factor of 2 in every gradient is no smoothing: it is reported, and the case keeps the cost."""
    path = planted(tmp_path, "plain_numpy_nn.py", NETWORK, "dA_prev = -(np.divide", "dA_prev = -2 * (np.divide")
    report = check(path)
    assert {f["param"] for f in errors(report)} == {"W1", "b1", "W2", "b2", "W3", "b3"}
    (built,) = [b for b in report["built"] if b["what"] == LABEL]
    assert "exact cross-entropy" not in built["shapes"]
