"""A softmax regression whose bias gradient is summed over the whole array (`np.sum(dZ)`): that one
number is about zero (each row of P − Y sums to zero) and moves every class's bias alike, along
which a softmax's loss does not change at all. The replay must still tell it is wrong, not
unused: a direction of ±1 signs can be constant over three classes, a Gaussian one cannot."""

from tests.userfiles import check, errors, line_of, planted

SCRIPT = """
    import numpy as np

    np.random.seed(10)
    K, n = 3, 80
    centres = np.array([[0, 3], [3, -2], [-3, -2]])
    X = np.vstack([np.random.randn(n, 2) + c for c in centres])
    labels = np.repeat(np.arange(K), n)
    N = X.shape[0]
    Y = np.zeros((N, K))
    Y[np.arange(N), labels] = 1
    W = np.random.randn(2, K) * 0.01
    b = np.zeros((1, K))
    lr = 0.5


    def softmax(Z):
        Z = Z - Z.max(axis=1, keepdims=True)
        e = np.exp(Z)
        return e / e.sum(axis=1, keepdims=True)


    for epoch in range(200):
        P = softmax(X @ W + b)
        loss = -np.sum(Y * np.log(P + 1e-12)) / N
        dZ = (P - Y) / N
        dW = X.T @ dZ
        db = np.sum(dZ, axis=0, keepdims=True)
        W -= lr * dW
        b -= lr * db
"""


def test_the_bias_summed_over_the_samples_is_right(tmp_path):
    assert errors(check(planted(tmp_path, "softmax_reg.py", SCRIPT, "np.sum(dZ, axis=0, keepdims=True)", "np.sum(dZ, axis=0, keepdims=True)"))) == []


def test_a_bias_summed_over_every_class_too_is_wrong_not_unused(tmp_path):
    path = planted(tmp_path, "softmax_reg.py", SCRIPT, "np.sum(dZ, axis=0, keepdims=True)", "np.sum(dZ)")
    (found,) = errors(check(path))
    assert (found["code"], found["param"], found["line"]) == ("BPD108", "b", line_of(path, "db = np.sum(dZ)"))
    assert "one number" in found["message"]
