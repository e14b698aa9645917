"""A script whose gradients are all right but whose own step cannot fit five samples (issue 11:
the training checks judge a script's own training, `cannot-overfit` among them).

The replay cuts the data the loop reads to five samples and runs the loop's body on them again
and again with the program's own update rule; the programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SATURATED = '''\
import numpy as np

np.random.seed(0)
X = np.random.randint(0, 256, size=(200, 16)) / 255.0
y = (X[:, :8].sum(axis=1) > X[:, 8:].sum(axis=1)).astype(float).reshape(-1, 1)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


W1 = np.random.randn(16, 8)
b1 = np.zeros((1, 8))
W2 = np.random.randn(8, 1)
b2 = np.zeros((1, 1))
lr = 0.1
for epoch in range(2000):
    h = sigmoid(X @ W1 + b1)
    out = sigmoid(h @ W2 + b2)
    loss = np.mean((out - y) ** 2)
    dout = 2 * (out - y) / len(X) * out * (1 - out)
    dW2 = h.T @ dout
    db2 = dout.sum(axis=0, keepdims=True)
    dh = dout @ W2.T * h * (1 - h)
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0, keepdims=True)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''

XOR = '''\
import numpy as np

np.random.seed(1)
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([[0], [1], [1], [0]], dtype=float)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


W1 = np.random.uniform(-1, 1, (2, 2))
b1 = np.zeros((1, 2))
W2 = np.random.uniform(-1, 1, (2, 1))
b2 = np.zeros((1, 1))
lr = 0.1
for i in range(10000):
    a1 = sigmoid(X @ W1 + b1)
    a2 = sigmoid(a1 @ W2 + b2)
    loss = 0.5 * np.sum((a2 - y) ** 2)
    d2 = (a2 - y) * a2 * (1 - a2)
    d1 = d2 @ W2.T * a1 * (1 - a1)
    W2 -= lr * a1.T @ d2
    b2 -= lr * d2.sum(axis=0, keepdims=True)
    W1 -= lr * X.T @ d1
    b1 -= lr * d1.sum(axis=0, keepdims=True)
'''

MINIBATCHES = '''\
import numpy as np

np.random.seed(0)
n_train = 300
raw = np.random.randint(0, 256, size=(n_train, 20))
X = raw / 255.0
y = (raw[:, :10].mean(axis=1) > raw[:, 10:].mean(axis=1)).astype(float).reshape(-1, 1)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


W1 = np.random.randn(20, 16)
b1 = np.zeros((1, 16))
W2 = np.random.randn(16, 1)
b2 = np.zeros((1, 1))
lr = 0.5
for it in range(3000):
    idx = np.random.choice(n_train, 32)
    xb, yb = X[idx], y[idx]
    h = sigmoid(xb @ W1 + b1)
    p = sigmoid(h @ W2 + b2)
    loss = -np.mean(yb * np.log(p + 1e-9) + (1 - yb) * np.log(1 - p + 1e-9))
    dz2 = (p - yb) / len(xb)
    dW2 = h.T @ dz2
    db2 = dz2.sum(axis=0, keepdims=True)
    dz1 = dz2 @ W2.T * h * (1 - h)
    dW1 = xb.T @ dz1
    db1 = dz1.sum(axis=0, keepdims=True)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''

DECAY = '''\
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(150, 6))
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
W1 = rng.normal(size=(6, 24)) * 0.1
b1 = np.zeros((1, 24))
W2 = rng.normal(size=(24, 1)) * 0.1
b2 = np.zeros((1, 1))
reg = 0.3
lr = 0.2
for step in range(2000):
    z1 = X @ W1 + b1
    a1 = np.tanh(z1)
    out = a1 @ W2 + b2
    loss = np.mean((out - y) ** 2) + reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    dout = 2 * (out - y) / len(X)
    dW2 = a1.T @ dout + 2 * reg * W2
    db2 = dout.sum(axis=0, keepdims=True)
    dz1 = dout @ W2.T * (1 - a1 ** 2)
    dW1 = X.T @ dz1 + 2 * reg * W1
    db1 = dz1.sum(axis=0, keepdims=True)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
'''

LOGISTIC = '''\
import numpy as np

rng = np.random.default_rng(0)
X = np.vstack([rng.normal(-0.5, 1.0, (100, 2)), rng.normal(0.5, 1.0, (100, 2))])
y = np.r_[np.zeros(100), np.ones(100)]
w = np.zeros(2)
b = 0.0
lr = 0.1
for it in range(1000):
    p = 1 / (1 + np.exp(-(X @ w + b)))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    dw = X.T @ (p - y) / len(y)
    db = np.mean(p - y)
    w -= lr * dw
    b -= lr * db
'''


def _found(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-cannot-overfit"]


def test_unscaled_inputs_that_saturate_are_named_at_their_line(tmp_path):
    bug = planted(tmp_path, "pixels.py", SATURATED, "size=(200, 16)) / 255.0", "size=(200, 16)).astype(float)")
    report = check(bug, training=True)
    (finding,) = _found(report)
    assert finding["severity"] == "warning"
    assert finding["line"] == line_of(bug, "X = np.random.randint")
    assert "`X` holds values up to 25" in finding["message"] and "every gradient it computes is right" in finding["message"]
    assert finding["fix"] == "X = X / 255.0"
    tiny = replayed(report)["tiny"]
    assert (tiny["samples"], tiny["of"]) == (5, 200) and set(tiny["cut"]) == {"X", "y"}

    twin = write(tmp_path, "scaled.py", SATURATED)
    report = check(twin, training=True)
    assert not _found(report) and not [f for f in report["findings"] if f["severity"] == "error"]
    losses = replayed(report)["tiny"]["losses"]
    assert losses[-1] < 0.2 * losses[0]  # fitted, by the same step


def test_a_rate_too_small_to_fit_in_the_programs_own_steps_gets_the_rate_that_does(tmp_path):
    # 4,000 passes, not the 10,000 of XOR: both tiny runs (4,000 at 0.02, about 2,400 at 0.2) stay
    # far inside the replay's CPU budget on a loaded machine, where 10,000 at 0.02 ran out of it and,
    # unfinished, said nothing
    bug = planted(tmp_path, "xor.py", XOR.replace("range(10000)", "range(4000)"), "lr = 0.1", "lr = 0.02")
    (finding,) = _found(check(bug, training=True))
    assert finding["line"] == line_of(bug, "lr = 0.02")
    assert finding["fix"] == "lr = 0.2" and "raise the learning rate" in finding["message"]
    assert "its 4 samples" in finding["message"] and "repeated 4000 times" in finding["message"]


def test_a_slow_network_fitted_within_its_own_number_of_steps_is_left_alone(tmp_path):
    # 4,700 passes at lr 0.1 fit XOR: more than a fixed 2,000 would give, fewer than the loop's 10,000
    report = check(write(tmp_path, "xor.py", XOR), training=True)
    assert not _found(report)
    losses = replayed(report)["tiny"]["losses"]
    assert len(losses) > 2000 and losses[-1] < 0.2 * losses[0]


def test_a_minibatch_drawn_in_the_loop_is_drawn_from_the_five_samples(tmp_path):
    # `np.random.choice(n_train, 32)`: the sample count the loop reads becomes 5 with the data
    report = check(write(tmp_path, "minibatches.py", MINIBATCHES), training=True)
    assert not _found(report)
    tiny = replayed(report)["tiny"]
    assert (tiny["samples"], tiny["of"]) == (5, 300) and {"X", "y"} <= set(tiny["cut"])
    assert tiny["losses"][-1] < 0.2 * tiny["losses"][0]


def test_the_weight_decay_is_off_for_the_five_samples(tmp_path):
    # with `reg = 0.3` kept, the penalty alone holds the loss at a third of where it starts
    report = check(write(tmp_path, "decay.py", DECAY), training=True)
    assert not _found(report)
    losses = replayed(report)["tiny"]["losses"]
    assert losses[-1] < 0.2 * losses[0]


def test_a_linear_model_is_never_asked_to_memorise(tmp_path):
    # logistic regression cannot separate five samples of overlapping classes: no hidden layer, no question
    report = check(write(tmp_path, "logistic.py", LOGISTIC), training=True)
    assert not _found(report)
    assert replayed(report)["tiny"] is None


def test_a_shuffled_index_is_not_named_as_unscaled_data(tmp_path):
    # the step's loop reads its minibatches through a permutation of the sample indices drawn once an epoch
    # (values up to 199): an index, not data, so the array named is the inputs, whose values (up to 50) saturate
    # the sigmoid units
    body = SATURATED[SATURATED.index("    h = sigmoid") :]
    text = (
        SATURATED[: SATURATED.index("for epoch")].replace(
            "np.random.randint(0, 256, size=(200, 16)) / 255.0", "np.random.randint(0, 51, size=(200, 16)).astype(float)"
        )
        + "for epoch in range(100):\n    perm = np.random.permutation(200)\n    for k in range(0, 200, 50):\n"
        + "        b = perm[k:k + 50]\n        Xb, yb = X[b], y[b]\n"
        + "".join("    " + line + "\n" for line in body.splitlines())
    ).replace("sigmoid(X @ W1", "sigmoid(Xb @ W1").replace("(out - y)", "(out - yb)").replace("dW1 = X.T @ dh", "dW1 = Xb.T @ dh").replace("len(X)", "len(Xb)")
    path = write(tmp_path, "shuffled.py", text)
    (finding,) = _found(check(path, training=True))
    assert "`X` holds values up to 50" in finding["message"] and "`perm` holds" not in finding["message"]
    assert finding["line"] == line_of(path, "X = np.random.randint")


SOFT_TARGETS = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(120, 4))
teacher = rng.normal(size=(4, 3))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


Q = softmax(X @ teacher / 4.0)  # the teacher's outputs softened at temperature 4: the student's targets
W1 = rng.normal(0, 0.5, (4, 16))
b1 = np.zeros(16)
W2 = rng.normal(0, 0.5, (16, 3))
b2 = np.zeros(3)
lr = 0.5
for step in range(500):
    h = np.tanh(X @ W1 + b1)
    P = softmax(h @ W2 + b2)
    loss = -np.mean(np.sum(Q * np.log(P + 1e-12), axis=1))
    dz = (P - Q) / len(X)
    dh = dz @ W2.T * (1 - h ** 2)
    W2 -= lr * h.T @ dz
    b2 -= lr * dz.sum(axis=0)
    W1 -= lr * X.T @ dh
    b1 -= lr * dh.sum(axis=0)
'''


def test_soft_targets_whose_loss_has_a_floor_are_not_judged_by_a_fit_towards_zero(tmp_path):
    # a cross-entropy against the teacher's distributions is at least their entropy: five samples fitted as well as
    # they can be still end above a fifth of the start, which says nothing against the program
    report = check(write(tmp_path, "distil.py", SOFT_TARGETS), training=True)
    assert _found(report) == [] and errors(report) == []
    assert replayed(report)["tiny"]["soft"] == "Q"
