"""A loss that blows up with every gradient right and no smaller rate helping, in a program whose
input features hold values in the thousands (a floor area, a year): the features are named at
the line that binds them, with the standardisation to write, not only the learning rate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.userfiles import check, errors, line_of, planted

# a regression script with one hidden tanh layer and a named rate
SCRIPT = """\
    import numpy as np

    np.random.seed(5)
    area = np.random.uniform(40, 300, 400)
    built = np.random.uniform(1900, 2020, 400)
    rooms = np.random.randint(1, 8, 400).astype(float)
    raw = np.column_stack([area, built, rooms])
    value = 0.01 * area + 0.02 * (built - 1900) + 0.3 * rooms
    target = ((value - value.mean()) / value.std())[:, None]
    feats = (raw - raw.mean(axis=0)) / raw.std(axis=0)

    W1 = np.random.randn(3, 16) * 0.5
    b1 = np.zeros(16)
    W2 = np.random.randn(16, 1) * 0.5
    b2 = np.zeros(1)
    lr = 0.05
    for epoch in range(100):
        for i in range(0, 400, 20):
            xb, tb = feats[i:i + 20], target[i:i + 20]
            h = np.tanh(xb @ W1 + b1)
            out = h @ W2 + b2
            loss = np.mean((out - tb) ** 2)
            d = 2 * (out - tb) / len(xb)
            dh = (d @ W2.T) * (1 - h ** 2)
            W2 -= lr * h.T @ d
            b2 -= lr * d.sum(axis=0)
            W1 -= lr * xb.T @ dh
            b1 -= lr * dh.sum(axis=0)
"""

# a linear model object, a literal rate, features spelled in a list
MODEL = """\
    import numpy as np


    class Linear:
        def __init__(self, n):
            self.w = np.zeros((n, 1))
            self.b = 0.0

        def predict(self, X):
            return X @ self.w + self.b

        def grads(self, X, y):
            err = self.predict(X) - y
            return X.T @ err / len(X), err.mean()


    rng = np.random.default_rng(9)
    income = rng.uniform(20000, 90000, 300)
    age = rng.uniform(18, 80, 300)
    data = np.stack([income, age], axis=1)
    data = (data - data.mean(axis=0)) / data.std(axis=0)
    score = (0.5 * data[:, :1] - 0.2 * data[:, 1:]) + 0.05 * rng.normal(size=(300, 1))
    model = Linear(2)
    for step in range(300):
        gw, gb = model.grads(data, score)
        cost = np.mean((model.predict(data) - score) ** 2) / 2
        model.w -= 0.1 * gw
        model.b -= 0.1 * gb
"""

CASES = {
    "script.py": (SCRIPT, "feats = (raw - raw.mean(axis=0)) / raw.std(axis=0)", "feats = raw"),
    "model.py": (MODEL, "data = (data - data.mean(axis=0)) / data.std(axis=0)", "data = data * 1.0"),
}


@pytest.mark.parametrize("name", CASES)
def test_standardised_features_get_no_finding(tmp_path: Path, name: str) -> None:
    program, _, _ = CASES[name]
    report = check(planted(tmp_path, name, program, "import numpy as np", "import numpy as np"), training=True)
    assert errors(report) == [], errors(report)
    assert not [f for f in report["findings"] if "never standardised" in f["message"]], report["findings"]


@pytest.mark.parametrize("name", CASES)
def test_raw_features_are_named_where_they_are_bound(tmp_path: Path, name: str) -> None:
    program, right, wrong = CASES[name]
    path = planted(tmp_path, name, program, right, wrong)
    found = errors(check(path, training=True))
    assert found and "never standardised" in found[0]["message"], found
    assert found[0]["line"] == line_of(path, wrong), found[0]


# the step is a function handed a batch of the program's array (`train_step(p, X[b], T[b], lr)`)
FUNCTION_STEP = """\
    import numpy as np

    np.random.seed(2)
    counts = np.random.randint(0, 240, size=(300, 10)).astype(float)
    labels = (counts[:, :5].sum(axis=1) > counts[:, 5:].sum(axis=1)).astype(int)
    X = counts / 255.0
    T = np.eye(2)[labels]


    def train_step(p, x, t, lr):
        h = np.tanh(x @ p["W"] + p["c"])
        z = h @ p["V"]
        z = z - z.max(axis=1, keepdims=True)
        y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -np.sum(t * np.log(y + 1e-12)) / len(x)
        dz = (y - t) / len(x)
        dh = (dz @ p["V"].T) * (1 - h ** 2)
        p["V"] -= lr * h.T @ dz
        p["W"] -= lr * x.T @ dh
        p["c"] -= lr * dh.sum(axis=0)
        return loss


    p = {"W": np.random.randn(10, 12) * 0.3, "c": np.zeros(12), "V": np.random.randn(12, 2) * 0.3}
    for epoch in range(30):
        for b in range(0, 300, 30):
            train_step(p, X[b:b + 30], T[b:b + 30], 0.5)
"""


def test_raw_features_handed_to_a_step_function_are_named_where_the_program_binds_them(tmp_path: Path) -> None:
    clean = check(planted(tmp_path, "fn.py", FUNCTION_STEP, "import numpy as np", "import numpy as np"), training=True)
    assert not [f for f in clean["findings"] if "never standardised" in f["message"]], clean["findings"]
    path = planted(tmp_path, "fn_raw.py", FUNCTION_STEP, "X = counts / 255.0", "X = counts * 1.0")
    named = [f for f in check(path, training=True)["findings"] if "never standardised" in f["message"]]
    assert named and named[0]["line"] == line_of(path, "X = counts * 1.0") and "`X / 255.0`" in named[0]["message"], named
