"""ReLU units dead from the first step of a network fed raw features (areas in square feet, distances
in metres): the finding names the input, how large it gets and the line that binds it, and says to
standardise it, rather than blaming the initialisation; the same network on standardised inputs is clean."""

from tests.userfiles import check, line_of, planted

HOUSES = """
    import numpy as np

    rng = np.random.RandomState(1)
    n = 400
    area = rng.uniform(400, 3500, n)
    rooms = rng.randint(1, 6, n).astype(float)
    dist = rng.uniform(100, 20000, n)
    raw = np.c_[area, rooms, dist]
    price = 0.1 * area + 12 * rooms - 0.003 * dist + rng.randn(n) * 5
    y = ((price - price.mean()) / price.std()).reshape(-1, 1)
    X = (raw - raw.mean(axis=0)) / raw.std(axis=0)

    W1 = rng.randn(3, 12) * 0.5
    b1 = np.zeros(12)
    W2 = rng.randn(12, 1) * 0.3
    b2 = np.zeros(1)
    for epoch in range(300):
        z1 = X @ W1 + b1
        a1 = np.maximum(z1, 0)
        pred = a1 @ W2 + b2
        loss = np.mean((pred - y) ** 2)
        dpred = 2 * (pred - y) / n
        dW2 = a1.T @ dpred
        db2 = dpred.sum(0)
        dz1 = (dpred @ W2.T) * (z1 > 0)
        dW1 = X.T @ dz1
        db1 = dz1.sum(0)
        W1 -= 0.05 * dW1
        b1 -= 0.05 * db1
        W2 -= 0.05 * dW2
        b2 -= 0.05 * db2
"""


def test_standardised_inputs_are_clean(tmp_path):
    report = check(planted(tmp_path, "houses.py", HOUSES, "X = (raw", "X = (raw"), training=True)
    assert [f for f in report["findings"] if f["code"] == "BPD612"] == []


def test_raw_inputs_are_named_as_the_cause_of_dead_units(tmp_path):
    path = planted(tmp_path, "houses.py", HOUSES, "X = (raw - raw.mean(axis=0)) / raw.std(axis=0)", "X = raw")
    (dead,) = [f for f in check(path, training=True)["findings"] if f["code"] == "BPD612"]
    assert dead["line"] == line_of(path, "X = raw"), dead
    assert "your input `X` reaches" in dead["message"] and "standardise" in dead["message"], dead["message"]
