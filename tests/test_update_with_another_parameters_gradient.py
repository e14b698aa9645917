"""An update that reads another parameter's gradient (`b1 -= lr * db2`) while the step computes the
parameter's own (`db1`) and the other parameter's update is right with it: named at the update's line,
with the name to use instead."""

from tests.userfiles import check, errors, line_of, planted, write

SCALARS = """
    import numpy as np

    # 스칼라 가중치 두 층: 1-1-1 네트워크
    rng = np.random.default_rng(8)
    xs = rng.uniform(-2, 2, 64)
    ys = np.tanh(1.5 * xs - 0.5) * 2.0 + 0.3

    w1, b1, w2, b2 = 0.4, 0.0, 0.7, 0.0
    lr = 0.05
    for epoch in range(40):
        total = 0.0
        for x, y in zip(xs, ys):
            z = w1 * x + b1
            h = np.tanh(z)
            out = w2 * h + b2
            err = out - y
            total += 0.5 * err ** 2
            dw2 = err * h
            db2 = err
            dz = err * w2 * (1 - h ** 2)
            dw1 = dz * x
            db1 = dz
            w1 -= lr * dw1
            b1 -= lr * db1
            w2 -= lr * dw2
            b2 -= lr * db2
        print(epoch, total / len(xs))
"""


def test_the_correct_scalars_are_clean(tmp_path):
    assert errors(check(write(tmp_path, "scalars.py", SCALARS))) == []


def test_a_bias_moved_by_the_other_bias_gradient_is_named_at_its_update(tmp_path):
    path = planted(tmp_path, "scalars.py", SCALARS, "b1 -= lr * db1", "b1 -= lr * db2")
    found = errors(check(path))
    assert [(f["code"], f["line"], f["pattern"]) for f in found] == [("BPD108", line_of(path, "b1 -= lr * db2"), "another-parameters-gradient")], found
    assert "use `db1`" in found[0]["message"], found[0]["message"]
