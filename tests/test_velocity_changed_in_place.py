"""Momentum written with a velocity changed in place in a zip loop (`v *= mu; v -= lr * g; p += v`):
the step is replayed with `g` as each parameter's gradient; a velocity that adds the gradient
(`v += lr * g`) climbs the loss and is named at the velocity's line, not at `p += v`."""

from tests.userfiles import check, errors, line_of, planted, replayed

SCRIPT = """
    import numpy as np

    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (96, 3))
    Y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    W1 = rng.normal(0, 0.8, (3, 12)); b1 = np.zeros(12)
    W2 = rng.normal(0, 0.8, (12, 1)); b2 = np.zeros(1)
    params = [W1, b1, W2, b2]
    velocity = [np.zeros_like(p) for p in params]
    lr, mu = 0.3, 0.9

    for epoch in range(300):
        H = np.tanh(X @ W1 + b1)
        out = 1 / (1 + np.exp(-(H @ W2 + b2)))
        loss = np.mean((out - Y) ** 2)
        g_out = 2 * (out - Y) / len(X) * out * (1 - out)
        gW2 = H.T @ g_out
        gb2 = g_out.sum(0)
        g_h = g_out @ W2.T * (1 - H ** 2)
        gW1 = X.T @ g_h
        gb1 = g_h.sum(0)
        for p, v, g in zip(params, velocity, [gW1, gb1, gW2, gb2]):
            v *= mu
            v -= lr * g
            p += v
"""


def test_momentum_with_an_in_place_velocity_is_replayed_and_clean(tmp_path):
    report = check(planted(tmp_path, "train.py", SCRIPT, "v -= lr * g", "v -= lr * g"))
    assert errors(report) == []
    assert {m["name"] for m in replayed(report)["parameters"]} == {"W1", "b1", "W2", "b2"}


def test_a_velocity_that_adds_the_gradient_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "train.py", SCRIPT, "v -= lr * g", "v += lr * g")
    (found,) = errors(check(path))
    assert found["code"] == "BPD108"
    assert found["line"] == line_of(path, "v += lr * g")
    assert "`v += lr * g`" in found["message"] and "climbs" in found["message"]
