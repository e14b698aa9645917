"""A training loop inside a function, over a model held by a module global, one sample at a time:

    net = Net(...)                      # a global
    def run_epoch(data):
        items = list(data.items())
        for x, y in items:              # `items` is the data, not a dictionary's entries
            probs = softmax(net.forward(x))
            loss -= np.log(probs[y])    # a loss summed with `-=`
            d = probs; d[y] -= 1        # written into in place after the loss is read
            net.backprop(d)             # clips its gradients to [-1, 1], then updates

The global is part of the step's state (copied, so replays never move the program's own
model), and the summed loss is read where the pass computes it. Entries the program clips
(`np.clip(d, -c, c, out=d)`) are left out of the comparison.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, replayed, write

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(0)


class Net:
    def __init__(self, n_in, n_out):
        self.W = np.random.default_rng(1).normal(size=(n_out, n_in)) * 0.5
        self.b = np.zeros((n_out, 1))

    def forward(self, x):
        self.x = x
        return self.W @ x + self.b

    def backprop(self, d_out, learn_rate=0.1):
        d_W = d_out @ self.x.T
        d_b = d_out
        d_x = self.W.T @ d_out
        for d in (d_W, d_b):
            np.clip(d, -5, 5, out=d)
        self.W -= learn_rate * d_W
        self.b -= learn_rate * d_b
        return d_x


def softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


data = {tuple(rng.normal(size=4)): int(rng.integers(0, 3)) for _ in range(40)}
net = Net(4, 3)


def run_epoch(data):
    items = list(data.items())
    loss = 0
    for x, y in items:
        probs = softmax(net.forward(np.array(x).reshape(-1, 1)))
        loss -= np.log(probs[y, 0])
        d = probs
        d[y] -= 1
        net.backprop(d)
    return loss / len(items)


for epoch in range(50):
    run_epoch(data)
'''


def test_a_correct_loop_over_a_global_model_with_clipped_gradients_has_no_error(tmp_path):
    report = check(write(tmp_path, "samples.py", PROGRAM), training=True)
    assert errors(report) == []
    result = replayed(report)
    assert [(p["name"], p["wrong"]) for p in result["parameters"]] == [("net.W", False), ("net.b", False)]
    assert result["loss"] == "loss"
    assert all(v == v for v in result["curve"]) and len(result["curve"]) > 5  # read before `d[y] -= 1`: never NaN


def test_a_wrong_weight_gradient_is_found_in_the_layer_and_in_the_replayed_step(tmp_path):
    path = write(tmp_path, "samples.py", PROGRAM.replace("d_W = d_out @ self.x.T", "d_W = d_out @ self.x.T * 2"))
    report = check(path)
    wrong = {p["name"] for p in replayed(report)["parameters"] if p["wrong"]}
    assert wrong == {"net.W"}
    # `backprop(d_out, learn_rate=0.1)` updates with a default rate: the layer is checked through its step
    (finding,) = errors(report)
    assert (finding["code"], finding["line"]) == ("BPD101", line_of(path, "d_W = d_out @ self.x.T * 2"))


def test_entries_the_program_clips_are_left_out_of_the_comparison():
    import numpy as np

    from backprop_doctor.replay.gradients import _measure

    base = np.array([0.5, -2.0, 3.0, 0.1])
    true = 2 * base  # the gradient of sum(p ** 2)
    clipped = np.clip(true, -1, 1)  # what the program updates with

    def loss_moved(delta):
        return float(np.sum((base + delta) ** 2))

    kept = np.abs(clipped) < 1
    rng = np.random.default_rng(0)
    assert _measure("p", 1, clipped, base, loss_moved, loss_moved(0), rng).wrong
    assert not _measure("p", 1, clipped, base, loss_moved, loss_moved(0), rng, kept=kept).wrong
    assert _measure("p", 1, clipped * 3, base, loss_moved, loss_moved(0), rng, kept=kept).wrong
