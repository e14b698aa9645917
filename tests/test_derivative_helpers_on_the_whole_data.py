"""Full-batch descent written in `main()` with derivative helpers from a file beside it.

    p_y = forward(Xtrain, W, b)
    gW = gradW(Ytrain_ind, p_y, Xtrain) / N      # helpers.py: X.T.dot(T - Y)
    gb = gradb(Ytrain_ind, p_y) / N
    W += lr * gW

The program computes no loss, cuts no batch, and the error the gradients start from is in the
other file: the call hands over the output the pass computed and arrays the loop never changes,
and each of them is a candidate for the targets (the target-like name first); the replay keeps the
loss the updates follow. A step whose first update fits the whole set (a learnable set at a large
rate) leaves a loss at rounding level at the second pass, where no gradient can be judged: it is
judged at its first pass instead.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts, write

HELPERS = """\
    import numpy as np


    def forward(X, W, b):
        a = X.dot(W) + b
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


    def gradW(T, Y, X):
        return X.T.dot(T - Y)


    def gradb(T, Y):
        return (T - Y).sum(axis=0)


    def indicator(y, k):
        T = np.zeros((len(y), k))
        T[np.arange(len(y)), y] = 1
        return T
"""

TRAIN = """\
    import numpy as np
    from helpers import forward, gradW, gradb, indicator


    def main():
        np.random.seed(4)
        Xtrain = np.random.randn(300, 6)
        Ytrain = np.argmax(Xtrain[:, :3], axis=1)
        N, D = Xtrain.shape
        Ytrain_ind = indicator(Ytrain, 3)
        W = np.random.randn(D, 3) / np.sqrt(D)
        b = np.zeros(3)
        lr = 0.5
        for i in range(100):
            p_y = forward(Xtrain, W, b)
            gW = gradW(Ytrain_ind, p_y, Xtrain) / N
            gb = gradb(Ytrain_ind, p_y) / N
            W += lr * gW
            b += lr * gb
        print(np.mean(np.argmax(forward(Xtrain, W, b), axis=1) == Ytrain))


    if __name__ == "__main__":
        main()
"""

# fifty samples of 400 features at a rate of 8: one update fits every label
FITTED_AT_ONCE = (
    TRAIN.replace("Xtrain = np.random.randn(300, 6)", "Xtrain = np.random.randn(50, 400)")
    .replace("Ytrain = np.argmax(Xtrain[:, :3], axis=1)", "Ytrain = np.random.randint(0, 10, 50)")
    .replace("indicator(Ytrain, 3)", "indicator(Ytrain, 10)")
    .replace("np.random.randn(D, 3)", "np.random.randn(D, 10)")
    .replace("np.zeros(3)", "np.zeros(10)")
    .replace("lr = 0.5", "lr = 8.0")
)


def test_the_step_is_replayed_against_the_cross_entropy_its_helpers_imply(tmp_path):
    write(tmp_path, "helpers.py", HELPERS)
    report = check(write(tmp_path, "train.py", TRAIN))
    assert errors(report) == [], errors(report)
    assert step_verdicts(report) == {"W": "ok", "b": "ok"}, report["measurements"]
    (result,) = report["extras"]["replay"]
    assert result["loss"] == "−Σ Ytrain_ind·log p_y", result


def test_a_wrong_helper_gradient_is_named_where_the_step_computes_it(tmp_path):
    planted(tmp_path, "helpers.py", HELPERS, "return X.T.dot(T - Y)", "return X.T.dot(T - Y * Y)")
    path = write(tmp_path, "train.py", TRAIN)
    report = check(path)
    (finding,) = errors(report)
    assert (finding["code"], finding["param"], finding["line"]) == ("BPD108", "W", line_of(path, "gW = gradW(")), finding
    assert step_verdicts(report)["b"] == "ok"


def test_a_step_that_fits_the_set_at_once_is_judged_at_its_first_pass(tmp_path):
    assert "lr = 8.0" in FITTED_AT_ONCE
    write(tmp_path, "helpers.py", HELPERS.replace("e = np.exp(a - a.max(axis=1, keepdims=True))", "e = np.exp(a)"))
    report = check(write(tmp_path, "train.py", FITTED_AT_ONCE))
    assert not [f for f in report["findings"] if f["code"] == "BPD108"], report["findings"]
    assert step_verdicts(report) == {"W": "ok", "b": "ok"}, report["measurements"]
