"""A loop that cuts its next batch of inputs with a new index and leaves the targets cut with the
first batch: from the second step on, each input is trained on another sample's target. Named at
the statement that cuts the inputs alone (targets-not-shuffled, pattern targets-not-recut); two
styles, with correct twins that cut both (on one line or two) clean of it."""

import pytest

from tests.userfiles import check, planted, write

# a script: softmax regression, the batch drawn by `rng.choice` at the end of each pass
SCRIPT = """
    import numpy as np

    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    W = np.zeros((4, 2))
    b = np.zeros(2)

    idx = rng.choice(300, 30, replace=False)
    xb, yb = X[idx], y[idx]
    for step in range(200):
        s = xb @ W + b
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(yb)), yb]).mean()
        d = p.copy()
        d[np.arange(len(yb)), yb] -= 1
        d /= len(yb)
        W -= 0.5 * xb.T @ d
        b -= 0.5 * d.sum(axis=0)
        idx = rng.choice(300, 30, replace=False)
        xb, yb = X[idx], y[idx]
    print(loss)
"""

# a trainer method: the batch drawn by `np.random.randint` at the top of each pass, on two lines
TRAINER = """
    import numpy as np


    class Regressor:
        def __init__(self, n_in):
            np.random.seed(0)
            self.w = np.random.randn(n_in) * 0.1
            self.c = 0.0

        def fit(self, data, targets, steps=150, batch=16, lr=0.05):
            pick = np.random.randint(0, len(data), size=batch)
            inputs = data[pick]
            wanted = targets[pick]
            for _ in range(steps):
                pred = inputs @ self.w + self.c
                err = pred - wanted
                loss = np.mean(err ** 2)
                self.w -= lr * 2 * inputs.T @ err / batch
                self.c -= lr * 2 * err.mean()
                pick = np.random.randint(0, len(data), size=batch)
                inputs = data[pick]
                wanted = targets[pick]
            return loss


    rng = np.random.default_rng(1)
    data = rng.normal(size=(200, 3))
    targets = data @ np.array([1.0, -2.0, 0.5]) + 0.3
    print(Regressor(3).fit(data, targets))
"""

CASES = [
    pytest.param(SCRIPT, "    xb, yb = X[idx], y[idx]\nprint", "    xb = X[idx]\nprint", "xb = X[idx]\nprint", id="script"),
    pytest.param(TRAINER, "            inputs = data[pick]\n            wanted = targets[pick]\n        return", "            inputs = data[pick]\n        return", "inputs = data[pick]\n        return", id="trainer"),
]


@pytest.mark.parametrize(("source", "correct", "wrong", "named"), CASES)
def test_inputs_cut_again_without_their_targets_are_named_at_the_cut(tmp_path, source, correct, wrong, named):
    path = planted(tmp_path, "train.py", source, correct, wrong)
    found = [f for f in check(path, training=True)["findings"] if f["code"] == "BPD614"]
    assert [(f["severity"], f["pattern"]) for f in found] == [("error", "targets-not-recut")], found
    # the last cut of the inputs, inside the loop (the first one, before it, cuts both)
    text = path.read_text()
    line = text[: text.index(named)].count("\n") + 1
    assert found[0]["line"] == line, found


@pytest.mark.parametrize(("source", "correct", "wrong", "named"), CASES)
def test_both_cut_again_is_clean_of_it(tmp_path, source, correct, wrong, named):
    report = check(write(tmp_path, "train.py", source), training=True)
    assert [f for f in report["findings"] if f["code"] == "BPD614"] == [], report["findings"]


def test_one_batch_cut_once_before_the_loop_is_not_a_stale_target(tmp_path):
    # the whole loop trains on one fixed batch: inputs and targets stay together
    source = SCRIPT.replace("        idx = rng.choice(300, 30, replace=False)\n        xb, yb = X[idx], y[idx]\n", "")
    assert source != SCRIPT
    report = check(write(tmp_path, "train.py", source), training=True)
    assert [f for f in report["findings"] if f["code"] == "BPD614"] == [], report["findings"]
