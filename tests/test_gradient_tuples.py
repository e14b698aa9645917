"""Networks written as plain functions over weights handed in one tuple or list (`Wa, ba, Wb, bb = weights`),
whose gradient function returns the gradients alone, in the order of that tuple, beside a loss function of
the same arguments (`conventions/gradient_tuples.py`). The gradient function is checked against the loss
function on the program's own call; a wrong one is named at its line. Before, such a file got "nothing was
checked"."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

# a tanh network over a tuple of weights; the gradient function runs the forward pass itself; momentum
TUPLE_NET = '''\
import numpy as np


def make(seed=1):
    g = np.random.default_rng(seed)
    return (g.normal(0, 0.6, (2, 6)), np.zeros(6), g.normal(0, 0.5, (6, 6)), np.zeros(6), g.normal(0, 0.5, (6, 1)), np.zeros(1))


def run(weights, inputs):
    Wa, ba, Wb, bb, Wc, bc = weights
    za = inputs @ Wa + ba
    ha = np.tanh(za)
    hb = np.tanh(ha @ Wb + bb)
    pred = hb @ Wc + bc
    return pred, (ha, hb)


def squared_error(weights, inputs, targets):
    pred, _ = run(weights, inputs)
    return 0.5 * np.mean((pred - targets) ** 2)


def slopes(weights, inputs, targets):
    Wa, ba, Wb, bb, Wc, bc = weights
    pred, (ha, hb) = run(weights, inputs)
    dpred = (pred - targets) / len(inputs)
    dWc = hb.T @ dpred
    dbc = dpred.sum(axis=0)
    dhb = dpred @ Wc.T
    dzb = dhb * (1.0 - hb ** 2)
    dWb = ha.T @ dzb
    dbb = dzb.sum(axis=0)
    dha = dzb @ Wb.T
    dza = dha * (1.0 - ha ** 2)
    dWa = inputs.T @ dza
    dba = dza.sum(axis=0)
    return dWa, dba, dWb, dbb, dWc, dbc


def train(weights, inputs, targets, rate=0.1, beta=0.8, epochs=200):
    speed = tuple(np.zeros_like(w) for w in weights)
    for epoch in range(epochs):
        g = slopes(weights, inputs, targets)
        speed = tuple(beta * s - rate * d for s, d in zip(speed, g))
        weights = tuple(w + s for w, s in zip(weights, speed))
        if epoch % 50 == 0:
            print(epoch, squared_error(weights, inputs, targets))
    return weights


gen = np.random.default_rng(5)
inputs = gen.uniform(-1, 1, (120, 2))
targets = (inputs[:, :1] * inputs[:, 1:]) + 0.3 * np.cos(2 * inputs[:, :1])
weights = train(make(), inputs, targets)
'''

TUPLE_RIGHT = "dha = dzb @ Wb.T"
TUPLE_WRONG = "dha = dzb @ Wb"  # Wb is square: it still runs

# softmax over a list of arrays; the gradients come back in a list under names that spell nothing,
# so they are matched to the weights by position (and shape); the loop is the module's, which the replay
# measures, and a wrong entry is named where the gradient function forms it (`out = [...]`, `return out`)
LIST_NET = '''\
import numpy as np

rng = np.random.default_rng(2)
X = rng.normal(size=(90, 4))
labels = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
T = np.eye(3)[labels]


def probabilities(layers, X):
    first, shift1, second, shift2 = layers
    hidden = np.maximum(0.0, X @ first + shift1)
    logits = hidden @ second + shift2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True), hidden


def cost(layers, X, T):
    P, _ = probabilities(layers, X)
    return -np.mean(np.sum(T * np.log(P + 1e-12), axis=1))


def backprop(layers, X, T):
    first, shift1, second, shift2 = layers
    P, hidden = probabilities(layers, X)
    n = X.shape[0]
    e_out = (P - T) / n
    g1 = hidden.T @ e_out
    g2 = e_out.sum(axis=0)
    e_hid = (e_out @ second.T) * (hidden > 0)
    g3 = X.T @ e_hid
    g4 = e_hid.sum(axis=0)
    out = [g3, g4, g1, g2]
    return out


layers = [rng.normal(0, 0.5, (4, 10)), np.zeros(10), rng.normal(0, 0.5, (10, 3)), np.zeros(3)]
for step in range(300):
    grads = backprop(layers, X, T)
    layers = [w - 0.5 * g for w, g in zip(layers, grads)]
    if step % 100 == 0:
        print(step, cost(layers, X, T))
'''

LIST_RIGHT = "g2 = e_out.sum(axis=0)"
LIST_WRONG = "g2 = e_out.mean(axis=0)"  # divided by the batch a second time


def test_tuple_network_is_checked_and_clean(tmp_path):
    report = check(planted(tmp_path, "tuple_net.py", TUPLE_NET, TUPLE_RIGHT, TUPLE_RIGHT))
    assert errors(report) == []
    checked = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "slopes"}
    assert checked == dict.fromkeys(["Wa", "ba", "Wb", "bb", "Wc", "bc"], "ok")


def test_tuple_network_missing_transpose_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "tuple_net.py", TUPLE_NET, TUPLE_RIGHT, TUPLE_WRONG)
    report = check(path)
    found = errors(report)
    assert found, report["findings"]
    root = report["findings"][report["root_cause"]]
    assert root["code"] == "BPD101"
    assert root["line"] == line_of(path, TUPLE_WRONG)
    checked = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "slopes"}
    assert checked["Wc"] == checked["Wb"] == "ok" and checked["Wa"] == "mismatch"


def test_list_network_matched_by_position_is_checked_and_clean(tmp_path):
    report = check(planted(tmp_path, "list_net.py", LIST_NET, LIST_RIGHT, LIST_RIGHT))
    assert errors(report) == []
    checked = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
    assert checked == dict.fromkeys(["layers[0]", "layers[1]", "layers[2]", "layers[3]"], "ok")  # the replay of its loop


def test_list_network_wrong_bias_gradient_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "list_net.py", LIST_NET, LIST_RIGHT, LIST_WRONG)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["code"] in ("BPD101", "BPD108")
    assert root["line"] == line_of(path, LIST_WRONG)
    checked = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
    assert checked["layers[3]"] == "mismatch" and checked["layers[0]"] == "ok"


# the same network trained by a function whose loop moves each array in place over `zip(layers, grads)`
LIST_FIT = LIST_NET.replace(
    """for step in range(300):
    grads = backprop(layers, X, T)
    layers = [w - 0.5 * g for w, g in zip(layers, grads)]
    if step % 100 == 0:
        print(step, cost(layers, X, T))""",
    """

def fit(layers, X, T, rate=0.5, passes=300):
    for step in range(passes):
        grads = backprop(layers, X, T)
        for w, g in zip(layers, grads):
            w -= rate * g
        if step % 100 == 0:
            print(step, cost(layers, X, T))
    return layers


fit(layers, X, T)""",
)


def test_list_network_fitted_in_place_is_clean(tmp_path):
    report = check(planted(tmp_path, "list_fit.py", LIST_FIT, LIST_RIGHT, LIST_RIGHT))
    assert errors(report) == []
    checked = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
    assert set(checked.values()) == {"ok"} and len(checked) == 4


def test_list_network_fitted_in_place_names_the_entry_where_it_is_formed(tmp_path):
    path = planted(tmp_path, "list_fit.py", LIST_FIT, LIST_RIGHT, LIST_WRONG)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["line"] == line_of(path, LIST_WRONG)
    assert root["param"] == "layers[3]"


# plain descent over the tuple, rebuilt from a generator: the replay measures the loop's step
TUPLE_SGD = TUPLE_NET.replace(
    """        speed = tuple(beta * s - rate * d for s, d in zip(speed, g))
        weights = tuple(w + s for w, s in zip(weights, speed))""",
    """        weights = tuple(w - rate * d for w, d in zip(weights, g))""",
)


def test_tuple_rebuilt_by_a_generator_is_replayed_and_clean(tmp_path):
    report = check(planted(tmp_path, "tuple_sgd.py", TUPLE_SGD, TUPLE_RIGHT, TUPLE_RIGHT))
    assert errors(report) == []
    checked = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"}
    assert checked == {f"weights[{i}]": "ok" for i in range(6)}


def test_tuple_rebuilt_by_a_generator_names_the_missing_transpose(tmp_path):
    path = planted(tmp_path, "tuple_sgd.py", TUPLE_SGD, TUPLE_RIGHT, TUPLE_WRONG)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"]) == ("BPD108", line_of(path, TUPLE_WRONG))


# gradients returned as expressions (no names at all), a count the module sets at its top level, momentum in a list
EXPRESSIONS = '''\
import numpy as np

rs = np.random.default_rng(1)
X = rs.normal(size=(40, 3))
Y = X @ np.array([[1.0], [2.0], [-1.0]]) + 0.5
N = len(X)


def predict(p, X):
    W, b = p
    return X @ W + b


def loss(p, X, Y):
    return np.sum((predict(p, X) - Y) ** 2) / N


def grad(p, X, Y):
    W, b = p
    r = 2 * (predict(p, X) - Y) / N
    return X.T @ r, r.sum(axis=0)


def fit(p, mu=0.9):
    vel = [np.zeros_like(q) for q in p]
    for i in range(100):
        g = grad(p, X, Y)
        vel = [mu * v - 0.05 * d for v, d in zip(vel, g)]
        p = tuple(q + v for q, v in zip(p, vel))
    return p


p = fit((np.zeros((3, 1)), np.zeros(1)))
print(loss(p, X, Y))
'''

EXPRESSIONS_RIGHT = "return X.T @ r, r.sum(axis=0)"
EXPRESSIONS_WRONG = "return X.T @ r, r.sum(axis=0) / N"


def test_gradients_returned_as_expressions_are_matched_by_position_and_clean(tmp_path):
    report = check(planted(tmp_path, "expressions.py", EXPRESSIONS, EXPRESSIONS_RIGHT, EXPRESSIONS_RIGHT))
    assert errors(report) == []
    checked = {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "grad"}
    assert checked == {"W": "ok", "b": "ok"}


def test_gradient_returned_as_an_expression_divided_twice_is_named_at_the_return(tmp_path):
    path = planted(tmp_path, "expressions.py", EXPRESSIONS, EXPRESSIONS_RIGHT, EXPRESSIONS_WRONG)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["line"], root["param"]) == ("BPD101", line_of(path, EXPRESSIONS_WRONG), "b")
