"""A learning-rate schedule that follows a counter the program keeps itself (`step += 1` every pass of a
minibatch loop inside an epoch loop), not a loop's own variable: evaluated over the passes the loops
around make, a rate halved every pass is gone early, and one halved every few hundred passes is not."""

from tests.userfiles import check, line_of, write

PROGRAM = """
    import numpy as np

    rng = np.random.default_rng(6)
    X = rng.normal(size=(600, 5))
    y = (X @ rng.normal(size=5) > 0).astype(float)
    w = np.zeros(5)
    b = 0.0
    step = 0
    for epoch in range(30):
        perm = rng.permutation(len(X))
        for start in range(0, len(X), 40):
            idx = perm[start:start + 40]
            lr = 0.8 * 0.5 ** (step // 300)
            p = 1 / (1 + np.exp(-(X[idx] @ w + b)))
            loss = -np.mean(y[idx] * np.log(p + 1e-12) + (1 - y[idx]) * np.log(1 - p + 1e-12))
            w -= lr * X[idx].T @ (p - y[idx]) / len(idx)
            b -= lr * np.mean(p - y[idx])
            step += 1
        print(epoch, loss)
"""


def _vanishing(path):
    return [f for f in check(path, training=True)["findings"] if f["code"] == "BPD617"]


def test_a_slow_schedule_on_the_counter_is_left_alone(tmp_path):
    assert _vanishing(write(tmp_path, "sched.py", PROGRAM)) == []


def test_a_rate_halved_every_pass_of_the_counter_is_named(tmp_path):
    path = write(tmp_path, "sched.py", PROGRAM.replace("0.5 ** (step // 300)", "0.5 ** step"))
    found = _vanishing(path)
    assert [f["line"] for f in found] == [line_of(path, "lr = 0.8 * 0.5 ** step")], found
    assert "`step`" in found[0]["message"], found[0]["message"]
