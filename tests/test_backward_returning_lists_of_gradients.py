"""A network class that keeps its weights in lists (`self.W = [...]`, `self.b = [...]`) and whose
backward returns their gradients as lists (`return gW, gb`): what backward returns are the
parameters' gradients, one per entry (`W[0]`, `W[1]` ...), not the gradient of its input, so it is no
"list of values" bad return, and each entry's gradient is compared."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = """\
    import numpy as np

    class StackNet:
        def __init__(self, widths, seed=2):
            g = np.random.RandomState(seed)
            self.W = [g.randn(m, n) / np.sqrt(m) for m, n in zip(widths[:-1], widths[1:])]
            self.b = [np.zeros(n) for n in widths[1:]]

        def forward(self, x):
            self.inputs, self.pre = [], []
            for k in range(len(self.W)):
                self.inputs.append(x)
                z = x @ self.W[k] + self.b[k]
                self.pre.append(z)
                x = np.tanh(z) if k < len(self.W) - 1 else z
            return x

        def backward(self, grad):
            gW = [None] * len(self.W)
            gb = [None] * len(self.b)
            for k in range(len(self.W) - 1, -1, -1):
                if k < len(self.W) - 1:
                    grad = grad * (1 - np.tanh(self.pre[k]) ** 2)
                gW[k] = self.inputs[k].T @ grad
                gb[k] = grad.sum(axis=0)
                grad = grad @ self.W[k].T
            return gW, gb

    rng = np.random.RandomState(1)
    X = rng.randn(90, 4)
    T = np.c_[np.sin(X[:, 0]), X[:, 1] * X[:, 2]]
    net = StackNet([4, 12, 8, 2])
    for it in range(300):
        Y = net.forward(X)
        loss = 0.5 * np.mean(np.sum((Y - T) ** 2, axis=1))
        gW, gb = net.backward((Y - T) / len(X))
        for k in range(len(net.W)):
            net.W[k] -= 0.1 * gW[k]
            net.b[k] -= 0.1 * gb[k]
    print(loss)
"""


def _class_verdicts(report: dict) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "StackNet"}


def test_gradients_returned_as_lists_are_the_parameters_and_are_compared(tmp_path):
    report = check(write(tmp_path, "stack.py", PROGRAM))
    assert [f for f in report["findings"] if f["code"] == "BPD107"] == []
    assert errors(report) == []
    assert _class_verdicts(report) == {f"{p}[{k}]": "ok" for p in ("W", "b") for k in range(3)}


def test_a_wrong_entry_of_the_returned_lists_is_found(tmp_path):
    path = planted(tmp_path, "stack.py", PROGRAM, "gb[k] = grad.sum(axis=0)", "gb[k] = grad.sum(axis=0) * 2")
    report = check(path)
    assert [f for f in report["findings"] if f["code"] == "BPD107"] == []
    verdicts = _class_verdicts(report)
    assert {p for p, v in verdicts.items() if v != "ok"} == {"b[0]", "b[1]", "b[2]"}
    assert line_of(path, "gb[k] = grad.sum(axis=0) * 2") in {f["line"] for f in errors(report)}
