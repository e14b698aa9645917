"""A loss layer the program runs on scores spread by thousands (a network at weight scale 1, as the
book's weight-initialisation sweeps build): the softmax's smaller probabilities are below float64's
resolution, so the loss is flat to rounding there and no numerical gradient can be measured. The
layer is checked on the same scores rescaled, not called wrong; a wrong layer is still found."""

from tests.userfiles import check, errors, planted, write

PROGRAM = """
    import numpy as np


    class Affine:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T


    class SoftmaxWithLoss:
        def forward(self, x, t):
            self.t = t
            e = np.exp(x - x.max(axis=1, keepdims=True))
            self.y = e / e.sum(axis=1, keepdims=True)
            return -np.sum(np.log(self.y[np.arange(len(t)), t] + 1e-7)) / len(t)

        def backward(self, dout=1):
            dx = self.y.copy()
            dx[np.arange(len(self.t)), self.t] -= 1
            return dx * dout / len(self.t)


    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 20)) * 10
    t = rng.integers(0, 5, 64)
    # 重みの標準偏差を 1 にしたときの出力: 数千の幅のスコア
    layer = Affine(rng.normal(size=(20, 5)) * 100.0, np.zeros(5))
    last = SoftmaxWithLoss()
    for step in range(5):
        loss = last.forward(layer.forward(x), t)
        layer.backward(last.backward())
        layer.W -= 1e-4 * layer.dW
        layer.b -= 1e-4 * layer.db
        print(step, loss)
"""


def test_a_right_loss_at_saturated_scores_is_checked_rescaled_and_clean(tmp_path):
    report = check(write(tmp_path, "sweep.py", PROGRAM))
    assert errors(report) == [], errors(report)
    (built,) = [b for b in report["built"] if b["what"].startswith("SoftmaxWithLoss")]
    assert "flat to rounding" in built["shapes"], built


def test_a_wrong_loss_there_is_still_found(tmp_path):
    path = planted(tmp_path, "sweep.py", PROGRAM, "return dx * dout / len(self.t)", "return dx * dout")
    found = errors(check(path))
    assert any(f["code"] == "BPD101" and f["layer"].startswith("SoftmaxWithLoss") for f in found), found
