"""A network class whose one method makes the whole step and returns the loss it computed first:

    def fit_batch(self, X, T):
        value = self.loss(X, T)          # forward, kept in self.pre / self.post
        dWs, dbs = self.backward(T)
        for k in ...: self.Ws[k] -= self.lr * dWs[k]
        return value

    value = net.fit_batch(X, T)          # the loop's only statement, its loss

The loss is a method call, which may run in another mode or on other data than the gradients
(`network.loss(x, t)` in inference mode beside `network.gradient(x[idx], t[idx])`), and then every
update is off by a factor of its own with both right. Here the call that returns the loss is the one
that computes the gradients and makes the updates, on one batch: wrong factors are wrong gradients,
and a measured mismatch is reported, never "no problems found". The planted bug hands the logistic's
derivative, written from its output, the pre-activation instead: a list the class fills with what the
logistic is applied to (`self.pre`), beside the one it fills with its outputs (`self.post`), so the
finding is at that call, with the other list as the fix."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

PROGRAM = """\
    import numpy as np


    def squash(z):
        return 1.0 / (1.0 + np.exp(-z))


    def squash_slope(s):
        # the logistic's slope from its output s = squash(z)
        return s * (1.0 - s)


    class Net:
        def __init__(self, widths, lr=0.5):
            gen = np.random.default_rng(1)
            self.lr = lr
            self.Ws = [gen.normal(0, 1 / np.sqrt(a), (a, b)) for a, b in zip(widths[:-1], widths[1:])]
            self.bs = [np.zeros(b) for b in widths[1:]]

        def forward(self, X):
            self.pre, self.post = [], [X]
            for W, b in zip(self.Ws, self.bs):
                self.pre.append(self.post[-1] @ W + b)
                self.post.append(squash(self.pre[-1]))
            return self.post[-1]

        def loss(self, X, T):
            return 0.5 * np.mean(np.sum((self.forward(X) - T) ** 2, axis=1))

        def backward(self, T):
            n = len(T)
            dWs, dbs = [None] * len(self.Ws), [None] * len(self.bs)
            delta = (self.post[-1] - T) * squash_slope(self.post[-1]) / n
            for k in range(len(self.Ws) - 1, -1, -1):
                dWs[k] = self.post[k].T @ delta
                dbs[k] = delta.sum(axis=0)
                if k:
                    delta = (delta @ self.Ws[k].T) * squash_slope(self.post[k])
            return dWs, dbs

        def fit_batch(self, X, T):
            value = self.loss(X, T)
            dWs, dbs = self.backward(T)
            for k in range(len(self.Ws)):
                self.Ws[k] -= self.lr * dWs[k]
                self.bs[k] -= self.lr * dbs[k]
            return value


    if __name__ == "__main__":
        gen = np.random.default_rng(7)
        X = gen.uniform(-1, 1, (200, 5))
        T = squash(3 * np.stack([X[:, 0] - X[:, 1], X[:, 2] * X[:, 3], np.sin(2 * X[:, 4])], axis=1))
        net = Net([5, 10, 8, 3])
        for epoch in range(800):
            value = net.fit_batch(X, T)
            if epoch % 100 == 0:
                print(epoch, value)
"""

RIGHT = "delta = (self.post[-1] - T) * squash_slope(self.post[-1]) / n"
WRONG = "delta = (self.post[-1] - T) * squash_slope(self.pre[-1]) / n"


def test_the_correct_class_is_replayed_and_clean(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "fit.py", PROGRAM, RIGHT, RIGHT))
    assert errors(report) == []
    replayed(report)
    verdicts = step_verdicts(report)
    assert len(verdicts) == 6 and set(verdicts.values()) == {"ok"}, verdicts


def test_the_derivative_fed_the_pre_activation_is_reported(tmp_path: Path) -> None:
    path = planted(tmp_path, "fit.py", PROGRAM, RIGHT, WRONG)
    report = check(path)
    assert set(step_verdicts(report).values()) == {"mismatch"}
    found = errors(report)
    assert found and {f["code"] for f in found} == {"BPD108"}, found
    assert report["ok"] is False and "no problems found" not in report["verdict"]
    (finding,) = found
    assert (finding["line"], finding["pattern"]) == (line_of(path, WRONG), "derivative-of-input")
    assert finding["message"].startswith(
        f"`squash_slope(self.pre[-1])` (line {line_of(path, WRONG)}) gives `squash_slope` `self.pre[-1]`, the input of sigmoid "
        f"(line {line_of(path, 'self.pre.append(')}), while `squash_slope` computes the derivative from sigmoid's output"
    )
    assert finding["fix"] == RIGHT


KEPT = """\
def squash(z):
    return 1.0 / (1.0 + np.exp(-z))


def squash_slope(s):
    return s * (1.0 - s)


class Kept:
    def forward(self, x):
        self.ins, self.outs, self.both = [], [x], []
        z = x @ self.W
        self.ins.append(z)
        a = squash(z)
        self.outs.append(a)
        self.both.append(z)
        self.both.append(a)
        return a

    def backward(self, d):
        return d * squash_slope(self.ins[-1]), d * squash_slope(self.outs[-1]), d * squash_slope(self.both[-1])
"""


def test_only_a_list_the_class_fills_with_the_activations_inputs_is_the_wrong_side() -> None:
    """`self.ins` holds only what the logistic is applied to: the wrong side, fixed by `self.outs`, the one
    list of its outputs; `self.outs` itself (its input `x` cannot be told) and a list holding both are not."""
    import ast

    from backprop_doctor.static.derivatives import misapplied

    tree = ast.parse(KEPT)
    line = next(n for n, text in enumerate(KEPT.splitlines(), 1) if "return d * squash_slope" in text)
    found = misapplied(tree, line)
    assert found is not None
    assert (found.call, found.given, found.fix, found.given_line, found.wants) == (
        "squash_slope(self.ins[-1])", "self.ins[-1]", "squash_slope(self.outs[-1])", 13, "output",
    )
    single = ast.parse(KEPT.replace("squash_slope(self.ins[-1]), ", ""))
    assert misapplied(single, line) is None
