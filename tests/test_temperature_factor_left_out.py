"""Every update off by one constant factor that is a setting the loss reads by name (a softmax temperature
`T`), the gradients made in a loss-and-gradients function the step calls or in the loop itself: the
backward left out (or doubled) the chain-rule factor of that setting, a mistake at the adjoint every gradient
is computed from, not a learning-rate scale of the program's. Named there as an error; twins are clean."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted

# a function returning the loss and the gradients, logits divided by a temperature
FUNCTION = """\
    import numpy as np

    TEMP = 1.8
    rng = np.random.default_rng(21)
    n_cls, n_feat = 3, 5
    centers = rng.normal(0, 2.0, (n_cls, n_feat))
    labels = rng.integers(0, n_cls, 150)
    feats = centers[labels] + rng.normal(size=(150, n_feat))
    onehot = np.zeros((150, n_cls))
    onehot[np.arange(150), labels] = 1.0


    def tempered(scores, temp):
        u = scores / temp
        u = u - u.max(axis=1, keepdims=True)
        eu = np.exp(u)
        return eu / eu.sum(axis=1, keepdims=True)


    def objective(weights, bias, inputs, targets, temp):
        m = len(inputs)
        probs = tempered(inputs @ weights + bias, temp)
        cost = -np.sum(targets * np.log(probs + 1e-12)) / m
        dscores = (probs - targets) / (m * temp)
        g_weights = inputs.T @ dscores
        g_bias = dscores.sum(axis=0)
        return cost, g_weights, g_bias


    weights = np.zeros((n_feat, n_cls))
    bias = np.zeros(n_cls)
    for it in range(120):
        cost, g_weights, g_bias = objective(weights, bias, feats, onehot, TEMP)
        weights -= 0.3 * g_weights
        bias -= 0.3 * g_bias
    print(cost)
"""

# a plain training loop, the logits divided by a temperature inline
LOOP = """\
    import numpy as np

    tau = 0.7
    rng = np.random.default_rng(11)
    X = rng.normal(size=(100, 3))
    y = (X[:, 0] - X[:, 2] > 0).astype(int) + (X[:, 1] > 0.8)
    Y = np.eye(3)[y]
    W = np.zeros((3, 3))
    b = np.zeros(3)
    for it in range(150):
        z = (X @ W + b) / tau
        z -= z.max(axis=1, keepdims=True)
        P = np.exp(z)
        P /= P.sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(Y * np.log(P), axis=1))
        g = (P - Y) / (len(X) * tau)
        W -= 0.2 * (X.T @ g)
        b -= 0.2 * g.sum(axis=0)
    print(loss)
"""

CASES = {
    "tempered_function.py": (FUNCTION, "dscores = (probs - targets) / (m * temp)", "dscores = (probs - targets) / m"),
    "temperature_loop.py": (LOOP, "g = (P - Y) / (len(X) * tau)", "g = (P - Y) / len(X)"),
}


def test_the_shared_adjoint_is_named_as_an_error(tmp_path: Path) -> None:
    for name, (text, correct, wrong) in CASES.items():
        path = planted(tmp_path, name, text, correct, wrong)
        report = check(path)
        assert report["root_cause"] is not None, (name, report["findings"])
        root = report["findings"][report["root_cause"]]
        assert (root["name"], root["severity"], root["line"]) == ("step-gradient-mismatch", "error", line_of(path, wrong)), (name, root)


def test_correct_twins_are_clean(tmp_path: Path) -> None:
    for name, (text, _, _) in CASES.items():
        report = check(planted(tmp_path, name, text, "import numpy", "import numpy"))
        assert errors(report) == [], (name, errors(report))
        assert not [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"], name
