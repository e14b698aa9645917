"""A loop over samples that computes no loss (`for x, t in data: net.forward(x); net.backprop(t);
net.update(lr)`) inside an epoch loop that reports the error over all the data (`net.error(data)`):
the step's loss is that error on the one sample the pass trains on, `net.error([(x, t)])`.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted, replayed

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(13)


class Net:
    def __init__(self):
        self.W1 = rng.normal(scale=0.8, size=(3, 6))
        self.W2 = rng.normal(scale=0.8, size=(6, 1))

    def forward(self, x):
        self.x = x
        self.h = 1 / (1 + np.exp(-(x @ self.W1)))
        self.o = self.h @ self.W2
        return self.o

    def error(self, pairs):
        return sum(0.5 * float(np.sum((self.forward(x) - t) ** 2)) for x, t in pairs) / len(pairs)

    def backprop(self, t):
        self.do = self.o - t
        self.dh = (self.W2 @ self.do) * self.h * (1 - self.h)

    def update(self, lr):
        self.W2 -= lr * np.outer(self.h, self.do)
        self.W1 -= lr * np.outer(self.x, self.dh)


samples = [(x, np.array([np.sin(x[0]) + x[1] * x[2]])) for x in rng.uniform(-1, 1, (50, 3))]
net = Net()
for epoch in range(60):
    for x, t in samples:
        net.forward(x)
        net.backprop(t)
        net.update(0.1)
    if epoch % 20 == 0:
        print("epoch", epoch, "error", net.error(samples))
'''

SLOPE = "        self.dh = (self.W2 @ self.do) * self.h * (1 - self.h)\n"


def test_the_epoch_error_on_the_passes_sample_is_the_steps_loss(tmp_path):
    report = check(planted(tmp_path, "ok.py", PROGRAM, SLOPE, SLOPE))
    assert errors(report) == []
    assert replayed(report)["loss"] == "net.error"
    bug = planted(tmp_path, "bug.py", PROGRAM, SLOPE, "        self.dh = (self.W2 @ self.do) * self.h\n")
    assert errors(check(bug))[0]["code"] == "BPD108"
