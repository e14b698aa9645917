"""A minibatch loop that cuts its batch from an order array (`idx = order[start:start + bs]`, then
`X[idx]`), takes the labels off the softmax output in place (`p[np.arange(n), yb] -= 1`) and prints
only a loss over all the data once an epoch. The pass's loss is the cross-entropy those lines imply,
read from the probabilities as computed (they are gone once the labels are taken off), not the
epoch's loss of other data; and an order kept as stored (`order = np.arange(N)`) over labels sorted
by class is the sorted visit it is."""

from tests.userfiles import check, errors, line_of, replayed, write

SOFTMAX_REGRESSION = """
    import numpy as np

    # 三类数据按类别顺序生成
    np.random.seed(0)
    centres = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]])
    X = np.concatenate([c + np.random.randn(200, 3) for c in centres])
    y = np.repeat(np.arange(3), 200)
    N = len(y)
    W = np.zeros((3, 3))
    b = np.zeros(3)


    def softmax(z):
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


    def epoch_loss(W, b):
        p = softmax(X @ W + b)
        return -np.mean(np.log(p[np.arange(N), y]))


    lr, bs = 0.5, 20
    for epoch in range(20):
        order = np.random.permutation(N)
        for start in range(0, N, bs):
            idx = order[start:start + bs]
            xb, yb = X[idx], y[idx]
            p = softmax(xb @ W + b)
            p[np.arange(len(yb)), yb] -= 1
            p /= len(yb)
            W -= lr * xb.T @ p
            b -= lr * p.sum(axis=0)
        print(epoch, epoch_loss(W, b))
"""


def test_the_pass_is_judged_against_the_cross_entropy_its_labels_imply(tmp_path):
    report = check(write(tmp_path, "softmax_sgd.py", SOFTMAX_REGRESSION))
    assert errors(report) == [], errors(report)
    step = replayed(report)
    assert step["loss"].startswith("−Σ log") and step["parameters"], step


def test_a_wrong_bias_gradient_is_found_against_that_loss(tmp_path):
    path = write(tmp_path, "softmax_sgd.py", SOFTMAX_REGRESSION.replace("b -= lr * p.sum(axis=0)", "b -= lr * p[0]"))
    found = errors(check(path))
    assert [(f["code"], f["param"]) for f in found] == [("BPD108", "b")], found


def test_an_order_kept_as_stored_over_sorted_labels_is_named(tmp_path):
    path = write(tmp_path, "softmax_sgd.py", SOFTMAX_REGRESSION.replace("order = np.random.permutation(N)", "order = np.arange(N)"))
    report = check(path, training=True)
    sorted_visits = [f for f in report["findings"] if f["code"] == "BPD620"]
    assert [f["line"] for f in sorted_visits] == [line_of(path, "for start in range(0, N, bs)")], report["findings"]
