"""Scripts whose backward variables are named `g_yhat`, `g_h`, `g_z1` (adjoints written with a `g_`)
are walked like `dZ1`: a tanh derivative applied to the tanh's output is named at its line. An
adjoint that only calls a helper of the file for its value (`dout = huber_grad(r, delta) / n`) is
named where the helper computes it."""

from tests.userfiles import check, errors, line_of, planted

TANH = """
    import numpy as np

    rng = np.random.RandomState(2)
    X = rng.randn(80, 3)
    Y = np.tanh(X @ rng.randn(3, 1))
    W1, b1 = rng.randn(3, 10) * 0.5, np.zeros(10)
    W2, b2 = rng.randn(10, 1) * 0.5, np.zeros(1)
    lr, N = 0.5, len(X)
    for step in range(300):
        h = np.tanh(X @ W1 + b1)
        yhat = np.tanh(h @ W2 + b2)
        loss = np.sum((yhat - Y) ** 2) / (2 * N)
        g_yhat = (yhat - Y) / N
        g_z2 = g_yhat * (1 - yhat ** 2)
        g_W2 = h.T @ g_z2
        g_b2 = g_z2.sum(axis=0)
        g_h = g_z2 @ W2.T
        g_z1 = g_h * (1 - h ** 2)
        g_W1 = X.T @ g_z1
        g_b1 = g_z1.sum(axis=0)
        W1 -= lr * g_W1; b1 -= lr * g_b1
        W2 -= lr * g_W2; b2 -= lr * g_b2
"""

HUBER = """
    import numpy as np


    def huber(r, delta):
        a = np.abs(r)
        return np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta))


    def huber_grad(r, delta):
        return np.where(np.abs(r) <= delta, r, delta * np.sign(r))


    rng = np.random.RandomState(12)
    X = rng.uniform(-2, 2, size=(120, 2))
    y = X[:, :1] * X[:, 1:] + 0.1 * rng.randn(120, 1)
    y[::17] += 6.0
    W1, b1 = rng.randn(2, 12) * 0.5, np.zeros(12)
    W2, b2 = rng.randn(12, 1) * 0.5, np.zeros(1)
    delta, lr, n = 1.0, 0.1, len(X)
    for ep in range(500):
        h = np.tanh(X @ W1 + b1)
        out = h @ W2 + b2
        r = out - y
        loss = huber(r, delta).mean()
        dout = huber_grad(r, delta) / n
        dW2 = h.T @ dout
        db2 = dout.sum(0)
        dz = (dout @ W2.T) * (1 - h ** 2)
        dW1 = X.T @ dz
        db1 = dz.sum(0)
        W1 -= lr * dW1; b1 -= lr * db1
        W2 -= lr * dW2; b2 -= lr * db2
"""


def test_the_correct_g_script_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "tanh.py", TANH, "g_h * (1 - h ** 2)", "g_h * (1 - h ** 2)"))) == []


def test_a_tanh_derivative_of_the_output_is_named_at_its_g_adjoint(tmp_path):
    path = planted(tmp_path, "tanh.py", TANH, "g_h * (1 - h ** 2)", "g_h * (1 - np.tanh(h) ** 2)")
    (found,) = errors(check(path))
    assert (found["line"], found["pattern"]) == (line_of(path, "g_z1 = g_h * (1 - np.tanh(h)"), "derivative-of-output")


def test_the_correct_huber_script_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "huber.py", HUBER, "delta * np.sign(r))", "delta * np.sign(r))"))) == []


def test_a_wrong_helper_is_named_where_it_computes_the_adjoint(tmp_path):
    path = planted(tmp_path, "huber.py", HUBER, "delta * np.sign(r))", "delta)")
    (found,) = errors(check(path))
    assert found["line"] == line_of(path, "return np.where(np.abs(r) <= delta, r, delta)")
    assert line_of(path, "dout = huber_grad(") in found["highlight"]
    assert "`huber_grad` computes it" in found["message"]
