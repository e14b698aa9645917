"""A gradient function that subtracts its L2 penalty's gradient (`... - lam * w`) while the objective adds
the penalty (`+ 0.5 * lam * w @ w`): the update is off by twice the penalty's gradient, and the finding
names the subtraction's line and says to add it, rather than calling the penalty left out."""

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = """
    import numpy as np

    rng = np.random.default_rng(9)
    X = rng.normal(size=(300, 6))
    y = (X @ rng.normal(size=6) + 0.3 * rng.normal(size=300) > 0).astype(float)


    def sigmoid(z):
        return 1 / (1 + np.exp(-z))


    def objective(w, b, X, y, lam):
        p = sigmoid(X @ w + b)
        ce = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
        return ce + 0.5 * lam * (w @ w)


    def gradient(w, b, X, y, lam):
        p = sigmoid(X @ w + b)
        gw = X.T @ (p - y) / len(y) + lam * w
        gb = np.mean(p - y)
        return gw, gb


    lam, lr = 0.1, 0.5
    w, b = np.zeros(6), 0.0
    for epoch in range(60):
        gw, gb = gradient(w, b, X, y, lam)
        w -= lr * gw
        b -= lr * gb
        if epoch % 10 == 0:
            print(epoch, objective(w, b, X, y, lam))
"""


def test_the_penalty_added_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "logreg.py", PROGRAM))) == []


def test_the_penalty_subtracted_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "logreg.py", PROGRAM, "/ len(y) + lam * w", "/ len(y) - lam * w")
    found = errors(check(path))
    assert [(f["code"], f["line"], f["pattern"]) for f in found] == [("BPD108", line_of(path, "- lam * w"), "penalty-sign-flipped")], found
