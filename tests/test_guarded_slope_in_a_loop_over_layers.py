"""A backward loop over the layers whose activation's derivative sits under an `if` that skips the
output layer (`if i < len(layers) - 1: delta = delta * ...`): when the output layer's gradient is
right and every earlier one wrong, that guarded statement, which runs on the wrong passes only, is
named, not the carry to the next pass (`delta = delta @ W.T`), which also ran on the right one.
The update may step by a number times the same dict's gradient entry (`layer["W"] -= 0.5 * layer["gW"]`)."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, step_verdicts

# layers as a list of dicts, ReLU hidden layers
DICTS = """\
    import numpy as np

    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 4))
    Y = (X[:, 0] * X[:, 1] > 0).astype(int)
    stack = [{"W": rng.normal(0, 0.5, (4, 16)), "b": np.zeros(16)},
             {"W": rng.normal(0, 0.3, (16, 16)), "b": np.zeros(16)},
             {"W": rng.normal(0, 0.3, (16, 2)), "b": np.zeros(2)}]


    def run(x):
        for i, layer in enumerate(stack):
            layer["x"] = x
            layer["z"] = x @ layer["W"] + layer["b"]
            x = np.maximum(layer["z"], 0) if i < len(stack) - 1 else layer["z"]
        return x


    def back(g):
        for i in reversed(range(len(stack))):
            layer = stack[i]
            if i < len(stack) - 1:
                g = g * (layer["z"] > 0)
            layer["gW"] = layer["x"].T @ g
            layer["gb"] = g.sum(axis=0)
            g = g @ layer["W"].T


    for epoch in range(40):
        out = run(X)
        out = out - out.max(axis=1, keepdims=True)
        p = np.exp(out) / np.exp(out).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(200), Y]).mean()
        p[np.arange(200), Y] -= 1
        back(p / 200)
        for layer in stack:
            layer["W"] -= 0.5 * layer["gW"]
            layer["b"] -= 0.5 * layer["gb"]
"""

# weights and biases in lists, sigmoid hidden layers, squared error
LISTS = """\
    import numpy as np

    np.random.seed(2)
    sizes = [3, 8, 8, 1]
    Ws = [np.random.randn(a, b) * 0.5 for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(b) for b in sizes[1:]]
    X = np.random.rand(100, 3)
    T = X.sum(axis=1, keepdims=True) / 3


    def sig(z):
        return 1 / (1 + np.exp(-z))


    for it in range(300):
        acts = [X]
        for k in range(len(Ws)):
            z = acts[-1] @ Ws[k] + bs[k]
            acts.append(sig(z) if k < len(Ws) - 1 else z)
        err = np.mean((acts[-1] - T) ** 2)
        d = 2 * (acts[-1] - T) / len(X)
        gWs, gbs = [None] * len(Ws), [None] * len(Ws)
        for k in reversed(range(len(Ws))):
            if k != len(Ws) - 1:
                d = d * acts[k + 1] * (1 - acts[k + 1])
            gWs[k] = acts[k].T @ d
            gbs[k] = d.sum(axis=0)
            d = d @ Ws[k].T
        for k in range(len(Ws)):
            Ws[k] -= 0.5 * gWs[k]
            bs[k] -= 0.5 * gbs[k]
"""

CASES = {
    "dicts.py": (DICTS, 'g = g * (layer["z"] > 0)', 'g = g * (layer["z"] < 0)'),
    "lists.py": (LISTS, "d = d * acts[k + 1] * (1 - acts[k + 1])", "d = d * acts[k] * (1 - acts[k])"),
}


def test_right_loops_are_clean(tmp_path: Path) -> None:
    for name, (program, _, _) in CASES.items():
        report = check(planted(tmp_path, name, program, "import numpy as np", "import numpy as np"))
        assert errors(report) == [], (name, errors(report))
        verdicts = step_verdicts(report)
        assert verdicts and set(verdicts.values()) == {"ok"}, (name, verdicts)  # replayed, not "nothing checked"


def test_the_guarded_slope_is_named(tmp_path: Path) -> None:
    for name, (program, right, wrong) in CASES.items():
        path = planted(tmp_path, name, program, right, wrong)
        found = errors(check(path))
        assert found and found[0]["line"] == line_of(path, wrong), (name, found)
