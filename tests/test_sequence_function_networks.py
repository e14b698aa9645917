"""The deep-learning course's character-level language model written as functions over a dictionary
of parameters: `initialize_parameters(n_a, n_x, n_y)` (a recurrent state's size `n_a`: `Wax`,
`Waa`, `Wya`, `b`, `by`), `rnn_forward(X, Y, a0, parameters, vocab_size=27)` over lists of token
indices returning `(loss, cache)`, and `rnn_backward(X, Y, parameters, cache)` returning the
gradients' dictionary (beside the states). Built from the initialiser (its own file's, or a file
beside the one checked) at weights of unit gain, so a left-out tanh slope does not hide."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# style 1: one file, the course's names, `return grads, states`
COURSE = '''\
import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum(axis=0)


def initialize_parameters(n_a, n_x, n_y):
    np.random.seed(3)
    return {
        "Wax": 0.01 * np.random.randn(n_a, n_x),
        "Waa": 0.01 * np.random.randn(n_a, n_a),
        "Wya": 0.01 * np.random.randn(n_y, n_a),
        "b": np.zeros((n_a, 1)),
        "by": np.zeros((n_y, 1)),
    }


def rnn_forward(X, Y, a0, parameters, vocab_size=27):
    xs, states, probs = {}, {-1: a0.copy()}, {}
    loss = 0.0
    for t, ix in enumerate(X):
        xs[t] = np.zeros((vocab_size, 1))
        if ix is not None:
            xs[t][ix] = 1
        states[t] = np.tanh(parameters["Wax"] @ xs[t] + parameters["Waa"] @ states[t - 1] + parameters["b"])
        probs[t] = softmax(parameters["Wya"] @ states[t] + parameters["by"])
        loss -= np.log(probs[t][Y[t], 0])
    return loss, (probs, states, xs)


def rnn_backward(X, Y, parameters, cache):
    probs, states, xs = cache
    grads = {"d" + k: np.zeros_like(v) for k, v in parameters.items()}
    da_next = np.zeros_like(states[0])
    for t in reversed(range(len(X))):
        dy = probs[t].copy()
        dy[Y[t]] -= 1
        grads["dWya"] += dy @ states[t].T
        grads["dby"] += dy
        da = parameters["Wya"].T @ dy + da_next
        dz = (1 - states[t] ** 2) * da
        grads["db"] += dz
        grads["dWax"] += dz @ xs[t].T
        grads["dWaa"] += dz @ states[t - 1].T
        da_next = parameters["Waa"].T @ dz
    return grads, states
'''

# style 2: a driver importing helpers beside it, other names, a dictionary returned alone
HELPERS = '''\
import numpy as np


def initialize_parameters(n_a, n_x, n_y):
    rng = np.random.RandomState(0)
    Wxh = rng.randn(n_a, n_x) * 0.1
    Whh = rng.randn(n_a, n_a) * 0.1
    Why = rng.randn(n_y, n_a) * 0.1
    bh = np.zeros((n_a, 1))
    by = np.zeros((n_y, 1))
    return {"Wxh": Wxh, "Whh": Whh, "Why": Why, "bh": bh, "by": by}


def forward_pass(X, Y, h0, params, vocab_size=20):
    h = h0
    loss = 0.0
    cache = []
    for t in range(len(X)):
        x = np.zeros((vocab_size, 1))
        x[X[t]] = 1.0
        h_prev = h
        h = np.tanh(np.dot(params["Wxh"], x) + np.dot(params["Whh"], h_prev) + params["bh"])
        s = np.dot(params["Why"], h) + params["by"]
        p = np.exp(s - s.max())
        p = p / np.sum(p)
        loss += -np.log(p[Y[t], 0])
        cache.append((x, h_prev, h, p))
    return loss, cache


def backward_pass(X, Y, params, cache):
    dWxh, dWhh, dWhy = np.zeros_like(params["Wxh"]), np.zeros_like(params["Whh"]), np.zeros_like(params["Why"])
    dbh, dby = np.zeros_like(params["bh"]), np.zeros_like(params["by"])
    dh_next = np.zeros_like(params["bh"])
    for t in reversed(range(len(X))):
        x, h_prev, h, p = cache[t]
        ds = p.copy()
        ds[Y[t]] -= 1.0
        dWhy += np.dot(ds, h.T)
        dby += ds
        dh = np.dot(params["Why"].T, ds) + dh_next
        draw = dh * (1.0 - h * h)
        dbh += draw
        dWxh += np.dot(draw, x.T)
        dWhh += np.dot(draw, h_prev.T)
        dh_next = np.dot(params["Whh"].T, draw)
    return {"dWxh": dWxh, "dWhh": dWhh, "dWhy": dWhy, "dbh": dbh, "dby": dby}
'''

DRIVER = '''\
import numpy as np

from seq_helpers import initialize_parameters, forward_pass, backward_pass


def sgd_step(X, Y, h0, params, lr=0.05):
    loss, cache = forward_pass(X, Y, h0, params)
    grads = backward_pass(X, Y, params, cache)
    for k in params:
        params[k] -= lr * grads["d" + k]
    return loss
'''


def _mismatched(report):
    return [f for f in errors(report) if f["name"] == "gradient-mismatch"]


def test_the_correct_models_are_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "char_rnn.py", COURSE))
    assert errors(report) == []
    assert any(b["what"] == "rnn_forward/rnn_backward" and not b.get("skipped") for b in report["built"])
    write(tmp_path, "seq_helpers.py", HELPERS)
    report = check(write(tmp_path, "train_chars.py", DRIVER))
    assert errors(report) == []
    assert any(b["what"] == "forward_pass/backward_pass" and not b.get("skipped") for b in report["built"])


def test_a_weight_gradient_read_before_the_slope_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "char_rnn.py", COURSE, '        grads["dWax"] += dz @ xs[t].T\n', '        grads["dWax"] += da @ xs[t].T\n')
    (found,) = _mismatched(check(path))
    assert found["line"] == line_of(path, 'grads["dWax"] += da @ xs[t].T')


def test_a_wrong_recurrent_weight_gradient_in_the_helpers_beside_is_named(tmp_path):
    helpers = planted(tmp_path, "seq_helpers.py", HELPERS, "        dWhh += np.dot(draw, h_prev.T)\n", "        dWhh += np.dot(draw, h.T)\n")
    (found,) = _mismatched(check(write(tmp_path, "train_chars.py", DRIVER)))
    assert found["line"] == line_of(helpers, "dWhh += np.dot(draw, h.T)")
    assert found["file"].endswith("seq_helpers.py")
