"""`step-inputs-collapsed` (BPD645): the inputs the training step feeds its network hardly vary.

A standardisation whose mean and standard deviation are taken over raw data that still holds an
outlier row, dropped only afterwards, turns every kept sample into nearly one value (-0.06 give or
take 7e-4): the network can fit little more than the targets' mean, its gradients all right. Named at
the statement that computes the statistics, with the selection of rows it should have used. The same
programs with their statistics over the rows they train on, and inputs small but spread (pixels / 255),
are clean; the step that cannot fit a few samples says nothing beside it.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

SCRIPT = '''\
import numpy as np

rng = np.random.default_rng(5)
readings = rng.normal(20.0, 3.0, size=(300, 4))
target = (np.cos(readings[:, 0] - 20) + 0.3 * (readings[:, 1] - 20) - 0.1 * (readings[:, 3] - 20)).reshape(-1, 1)
readings[7] = -8e4
good = readings.min(axis=1) > -1e3
center = readings[good].mean(axis=0)
scale = readings[good].std(axis=0)
feats = (readings[good] - center) / scale
goal = target[good]

Wa = rng.normal(0, 0.5, (4, 24)); ba = np.zeros(24)
Wb = rng.normal(0, 0.2, (24, 1)); bb = np.zeros(1)
lr = 0.05
for it in range(200):
    hid = np.tanh(feats @ Wa + ba)
    pred = hid @ Wb + bb
    err = pred - goal
    cost = np.mean(err ** 2)
    g = 2 * err / len(goal)
    gWb = hid.T @ g; gbb = g.sum(0)
    gh = (g @ Wb.T) * (1 - hid ** 2)
    gWa = feats.T @ gh; gba = gh.sum(0)
    Wa -= lr * gWa; ba -= lr * gba
    Wb -= lr * gWb; bb -= lr * gbb
'''

CLASSY = '''\
import numpy as np


def load(rng):
    raw = rng.uniform(100.0, 110.0, size=(250, 3))
    labels = (raw[:, 0] - 105 > 0.5 * (raw[:, 1] - 105)).astype(float).reshape(-1, 1)
    raw = np.vstack([raw, [[5e5, 5e5, 5e5]]])
    labels = np.vstack([labels, [[0.0]]])
    return raw, labels


class Classifier:
    def __init__(self, n_in, n_hidden, rng):
        self.W1 = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.normal(0, 1 / np.sqrt(n_hidden), (n_hidden, 1))
        self.b2 = np.zeros(1)

    def fit(self, inputs, labels, epochs=150, lr=0.5):
        for epoch in range(epochs):
            h = np.maximum(0, inputs @ self.W1 + self.b1)
            p = 1 / (1 + np.exp(-(h @ self.W2 + self.b2)))
            loss = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
            dz = (p - labels) / len(labels)
            dW2 = h.T @ dz
            db2 = dz.sum(axis=0)
            dh = (dz @ self.W2.T) * (h > 0)
            dW1 = inputs.T @ dh
            db1 = dh.sum(axis=0)
            self.W1 -= lr * dW1
            self.b1 -= lr * db1
            self.W2 -= lr * dW2
            self.b2 -= lr * db2
        return loss


rng = np.random.default_rng(2)
raw, labels = load(rng)
rows = np.all(raw < 1e4, axis=1)
stats = (np.mean(raw[rows], axis=0), np.std(raw[rows], axis=0))
inputs = (raw[rows] - stats[0]) / stats[1]
model = Classifier(3, 16, rng)
model.fit(inputs, labels[rows])
'''


def _collapsed(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD645"]


def test_a_script_standardised_with_an_outlier_it_drops_is_named_at_its_statistics(tmp_path):
    path = planted(tmp_path, "sensor.py", SCRIPT, "center = readings[good].mean(axis=0)", "center = readings.mean(axis=0)")
    path.write_text(path.read_text().replace("scale = readings[good].std(axis=0)", "scale = readings.std(axis=0)"))
    report = check(path, training=True)
    assert errors(report) == []
    (found,) = _collapsed(report)
    assert found["line"] == line_of(path, "center = readings.mean(axis=0)")
    assert "almost no spread" in found["message"] and "`feats`" in found["message"] and "`readings[good]`" in found["message"]
    assert [f for f in report["findings"] if f["code"] == "BPD615"] == []  # the step that cannot fit says nothing beside it


def test_a_class_trained_on_inputs_scaled_by_statistics_of_all_rows_is_named(tmp_path):
    path = planted(
        tmp_path, "clf.py", CLASSY,
        "stats = (np.mean(raw[rows], axis=0), np.std(raw[rows], axis=0))", "stats = (np.mean(raw, axis=0), np.std(raw, axis=0))",
    )  # fmt: skip
    report = check(path, training=True)
    assert errors(report) == []
    (found,) = _collapsed(report)
    assert found["line"] == line_of(path, "stats = (np.mean(raw, axis=0)")
    assert "`inputs`" in found["message"] and "`raw[rows]`" in found["message"]
    assert [f for f in report["findings"] if f["code"] in ("BPD612", "BPD615")] == []  # units on or off for all alike: this is why


def test_statistics_over_the_rows_trained_on_are_clean(tmp_path):
    for name, text in (("sensor.py", SCRIPT), ("clf.py", CLASSY)):
        report = check(planted(tmp_path, name, text, "import numpy as np", "import numpy as np"), training=True)
        assert [f for f in report["findings"] if f["severity"] != "info"] == [], name


def test_inputs_small_but_spread_are_clean(tmp_path):
    """Pixels divided by 255 (values up to 1, each feature spread as much as its mean) and readings of
    a few thousandths (small, yet spread beside their own mean) are no collapsed inputs."""
    pixels = SCRIPT.replace(
        "readings = rng.normal(20.0, 3.0, size=(300, 4))", "readings = rng.integers(0, 256, size=(300, 4)).astype(float)"
    ).replace("feats = (readings[good] - center) / scale", "feats = readings[good] / 255.0").replace(
        "target = (np.cos(readings[:, 0] - 20) + 0.3 * (readings[:, 1] - 20) - 0.1 * (readings[:, 3] - 20)).reshape(-1, 1)",
        "target = (readings[:, :1] - readings[:, 1:2]) / 255.0",
    )  # fmt: skip
    small = SCRIPT.replace("feats = (readings[good] - center) / scale", "feats = 1e-3 * (readings[good] - 10.0)")
    for name, text in (("pixels.py", pixels), ("small.py", small)):
        assert text != SCRIPT
        assert _collapsed(check(planted(tmp_path, name, text, "import numpy as np", "import numpy as np"), training=True)) == [], name


def test_the_statistics_statement_is_found_through_the_names_the_inputs_are_scaled_by():
    """`static.fed_data.statistics_statement`: the statement computing the statistics, whether the inputs' own
    line or one a name they are shifted or divided by is bound at; a selection of rows told only when the
    statistics are over the whole array."""
    import ast

    from backprop_doctor.static.fed_data import statistics_statement

    tree = ast.parse(
        "import numpy as np\n"
        "raw = np.ones((9, 3))\n"
        "ok = raw[:, 0] > 0\n"
        "m = raw.mean(axis=0)\n"
        "s = np.std(raw, axis=0)\n"
        "A = (raw[ok] - m) / s\n"
        "B = (raw - raw.mean(0)) / raw.std(0)\n"
        "mk, sk = raw[ok].mean(0), raw[ok].std(0)\n"
        "C = (raw[ok] - mk) / sk\n"
        "D = raw / 255.0\n"
    )
    a, b, c = (statistics_statement(tree, line) for line in (6, 7, 9))
    assert (a.line, a.over, a.selected) == (4, "raw", "raw[ok]")
    assert (b.line, b.selected) == (7, "")
    assert (c.line, c.selected) == (8, "")
    assert statistics_statement(tree, 10) is None


def test_a_deviation_taken_over_every_row_beside_a_right_mean_is_named_at_it(tmp_path):
    """The mean over the rows trained on, the standard deviation over all of them: every feature centred at
    0 with a spread of about 6e-4, and the step cannot fit a few samples. Named at the deviation's line."""
    path = planted(tmp_path, "sensor.py", SCRIPT, "scale = readings[good].std(axis=0)", "scale = readings.std(axis=0)")
    report = check(path, training=True)
    (found,) = _collapsed(report)
    assert found["line"] == line_of(path, "scale = readings.std(axis=0)")
    assert "`readings[good]`" in found["message"]
