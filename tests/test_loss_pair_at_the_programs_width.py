"""A loss function and its derivative of (prediction, target), written for the program's one output
column: the derivative divides by the rows (`/ len(pred)`), which is the mean's gradient only at width 1.
The pair is judged at the width the program's own run handed it, not at a made-up width where the
mean runs over more elements; a derivative wrong at that width is still found."""

from tests.userfiles import check, errors, planted, write

REGRESSION = """
    import numpy as np

    # 平滑 L1 损失做回归
    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 3))
    y = (X @ np.array([[0.7], [-1.2], [0.4]])) + 0.1 * rng.normal(size=(120, 1))


    def smooth_l1(pred, target):
        r = pred - target
        a = np.abs(r)
        return np.mean(np.where(a < 1.0, 0.5 * r * r, a - 0.5))


    def smooth_l1_grad(pred, target):
        r = pred - target
        return np.clip(r, -1.0, 1.0) / len(pred)


    W = rng.normal(size=(3, 1)) * 0.1
    b = np.zeros(1)
    for step in range(200):
        out = X @ W + b
        d_out = smooth_l1_grad(out, y)
        W -= 0.5 * (X.T @ d_out)
        b -= 0.5 * d_out.sum(axis=0)
        if step % 50 == 0:
            print(step, smooth_l1(out, y))
"""


def test_a_pair_right_at_the_programs_width_is_clean(tmp_path):
    report = check(write(tmp_path, "reg.py", REGRESSION))
    assert errors(report) == [], errors(report)
    judged = [m for m in report["measurements"] if m["layer"] == "smooth_l1/smooth_l1_grad"]
    assert judged and all(m["verdict"] == "ok" for m in judged), report["measurements"]
    assert any("(5, 1)" in b["shapes"] for b in report["built"] if b["what"] == "smooth_l1/smooth_l1_grad"), report["built"]


def test_a_derivative_wrong_at_that_width_is_found(tmp_path):
    path = planted(tmp_path, "reg.py", REGRESSION, "np.clip(r, -1.0, 1.0) / len(pred)", "np.clip(r, -1.0, 1.0) / len(pred) ** 2")
    found = errors(check(path))
    assert found, "a derivative divided by the batch twice must be an error"
