"""A program that loads its data through a loader of its own stops inside that loader when the data
is not on this machine: the loader raises on the missing file, or checks for it and calls `exit()`.
The training after it (at the top level, or inside `main()`) is run on synthetic data given in the
loader call's place, as many arrays as the call's assignment unpacks, each by its name, and the
report says so; an `exit()` before the training is told as a stop at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

LOADERS = '''\
import os
import sys

import numpy as np


def read_sales(folder="../datasets/sales"):
    if not os.path.isdir(folder):
        print("Fetch the sales data set into", folder, "first")
        sys.exit(1)
    rows = np.genfromtxt(os.path.join(folder, "all.csv"), delimiter=",")
    cut = int(0.8 * len(rows))
    return rows[:cut, :-1], rows[cut:, :-1], rows[:cut, -1], rows[cut:, -1]


def indicator(y, k):
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y.astype(int)] = 1
    return out
'''

# the loader of a module beside the file exits; the training runs inside main()
NET = '''\
import numpy as np

from loaders import indicator, read_sales


def probabilities(scores):
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def main():
    Xtrain, Xtest, Ytrain, Ytest = read_sales()
    K = int(Ytrain.max()) + 1
    T = indicator(Ytrain, K)
    N, D = Xtrain.shape
    hidden = 16
    W1 = np.random.randn(D, hidden) * 0.1
    b1 = np.zeros(hidden)
    W2 = np.random.randn(hidden, K) * 0.1
    b2 = np.zeros(K)
    rate = 0.05
    for epoch in range(200):
        A1 = Xtrain.dot(W1) + b1
        H = np.tanh(A1)
        P = probabilities(H.dot(W2) + b2)
        cost = -np.sum(T * np.log(P)) / N
        dOut = (P - T) / N
        dA1 = dOut.dot(W2.T) * (1 - H ** 2)
        W2 -= rate * H.T.dot(dOut)
        b2 -= rate * dOut.sum(axis=0)
        W1 -= rate * Xtrain.T.dot(dA1)
        b1 -= rate * dA1.sum(axis=0)
        if epoch % 50 == 0:
            print(epoch, cost, np.mean(P.argmax(axis=1) == Ytrain))


if __name__ == "__main__":
    main()
'''

PREP = '''\
import numpy as np


def load_features(split):
    x = np.load("features/%s_x.npy" % split)
    y = np.load("features/%s_y.npy" % split)
    return (x - x.mean(axis=0)) / x.std(axis=0), y
'''

# the loader of a module beside the file raises FileNotFoundError; the training is the script itself
SOFTMAX_REGRESSION = '''\
import numpy as np
from prep import load_features

x_train, y_train = load_features("train")
n, d = x_train.shape
k = len(np.unique(y_train))
onehot = np.eye(k)[y_train.astype(int)]

W = np.zeros((d, k))
b = np.zeros(k)
lr = 0.5
for it in range(300):
    s = x_train @ W + b
    s -= s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(onehot * np.log(p), axis=1))
    grad_s = (p - onehot) / n
    W -= lr * x_train.T @ grad_s
    b -= lr * grad_s.sum(axis=0)
print("final loss", loss)
'''

# the file's own loader cannot open its CSV and exits
LOGISTIC = '''\
import csv
import sys

import numpy as np


def getData(path):
    try:
        handle = open(path)
    except OSError:
        print("cannot read", path)
        sys.exit(2)
    rows = [[float(v) for v in line] for line in csv.reader(handle)]
    table = np.array(rows)
    return table[:, 1:], table[:, 0]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


X, Y = getData("data/churn.csv")
w = np.random.randn(X.shape[1]) * 0.01
bias = 0.0
alpha = 0.1
for step in range(500):
    out = sigmoid(X.dot(w) + bias)
    J = -np.mean(Y * np.log(out) + (1 - Y) * np.log(1 - out))
    err = out - Y
    w -= alpha * X.T.dot(err) / len(Y)
    bias -= alpha * err.mean()
print(J)
'''

GRADIENTS = '''\
import numpy as np


def forward(X, W1, b1, W2, b2):
    Z = np.maximum(0, X.dot(W1) + b1)
    A = Z.dot(W2) + b2
    e = np.exp(A - A.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True), Z


def grad_w2(Z, T, Y):
    return Z.T.dot(Y - T)


def grad_b2(T, Y):
    return (Y - T).sum(axis=0)


def grad_w1(X, Z, T, Y, W2):
    return X.T.dot((Y - T).dot(W2.T) * (Z > 0))


def grad_b1(Z, T, Y, W2):
    return ((Y - T).dot(W2.T) * (Z > 0)).sum(axis=0)


def cross_entropy(Y, T):
    return -np.sum(T * np.log(Y))
'''

# momentum on mini-batches, the gradients from a module beside it, and only the test set's cost printed:
# the cost of the test set is no loss the step descends, and the loss the gradients imply is measured
MOMENTUM = '''\
import numpy as np

from loaders import indicator, read_sales
from grads import cross_entropy, forward, grad_b1, grad_b2, grad_w1, grad_w2


def main():
    Xtrain, Xtest, Ytrain, Ytest = read_sales()
    Ttrain, Ttest = indicator(Ytrain, 3), indicator(Ytest, 3)
    N, D = Xtrain.shape
    W1 = np.random.randn(D, 20) / np.sqrt(D)
    b1 = np.zeros(20)
    W2 = np.random.randn(20, 3) / np.sqrt(20)
    b2 = np.zeros(3)
    lr, mu, reg, size = 0.0005, 0.9, 0.01, 250
    dW2 = db2 = dW1 = db1 = 0
    for epoch in range(10):
        for j in range(N // size):
            Xb = Xtrain[j * size:(j + 1) * size]
            Tb = Ttrain[j * size:(j + 1) * size]
            Pb, Z = forward(Xb, W1, b1, W2, b2)
            gW2 = grad_w2(Z, Tb, Pb) + reg * W2
            gb2 = grad_b2(Tb, Pb) + reg * b2
            gW1 = grad_w1(Xb, Z, Tb, Pb, W2) + reg * W1
            gb1 = grad_b1(Z, Tb, Pb, W2) + reg * b1
            dW2 = mu * dW2 - lr * gW2
            db2 = mu * db2 - lr * gb2
            dW1 = mu * dW1 - lr * gW1
            db1 = mu * db1 - lr * gb1
            W2 += dW2
            b2 += db2
            W1 += dW1
            b1 += db1
            if j % 2 == 0:
                Ptest, _ = forward(Xtest, W1, b1, W2, b2)
                print("test cost", cross_entropy(Ptest, Ttest))


if __name__ == "__main__":
    main()
'''


def _step_names(report: dict) -> set[str]:
    return {p["name"] for p in replayed(report)["parameters"]}


def _synthetic(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD022"]


def test_a_loader_beside_the_file_that_exits_has_main_trained_on_synthetic_data_and_clean(tmp_path):
    write(tmp_path, "loaders.py", LOADERS)
    path = write(tmp_path, "net.py", NET)
    report = check(path)
    assert errors(report) == []
    assert _step_names(report) == {"W1", "b1", "W2", "b2"}
    call = line_of(path, "= read_sales()")
    (synthetic,) = _synthetic(report)
    assert synthetic["line"] == call and "read_sales()" in synthetic["message"] and "synthetic data" in synthetic["message"]
    (built,) = [b for b in report["built"] if b["what"].startswith("training step")]
    assert "synthetic data" in built["how"] and f"stopped at line {call}" in built["how"]
    (stopped,) = [f for f in report["findings"] if f["code"] == "BPD021"]
    exit_line = line_of(tmp_path / "loaders.py", "sys.exit(1)")
    assert f"exited at line {exit_line} of loaders.py, called from line {call}" in stopped["message"]
    assert "to see what it prints before it exits" in stopped["message"]


def test_a_left_out_tanh_derivative_is_found_at_its_line_on_the_synthetic_data(tmp_path):
    write(tmp_path, "loaders.py", LOADERS)
    path = planted(tmp_path, "net.py", NET, "dA1 = dOut.dot(W2.T) * (1 - H ** 2)", "dA1 = dOut.dot(W2.T)")
    assert {f["line"] for f in errors(check(path))} == {line_of(path, "dA1 = dOut.dot(W2.T)")}


def test_a_script_whose_loader_beside_it_raises_is_run_on_synthetic_data_and_clean(tmp_path):
    write(tmp_path, "prep.py", PREP)
    path = write(tmp_path, "softreg.py", SOFTMAX_REGRESSION)
    report = check(path)
    assert errors(report) == []
    assert _step_names(report) == {"W", "b"}
    assert [f["line"] for f in _synthetic(report)] == [line_of(path, 'load_features("train")')]


def test_a_bias_gradient_averaged_twice_is_found_at_its_update(tmp_path):
    write(tmp_path, "prep.py", PREP)
    path = planted(tmp_path, "softreg.py", SOFTMAX_REGRESSION, "b -= lr * grad_s.sum(axis=0)", "b -= lr * grad_s.mean(axis=0)")
    assert {f["line"] for f in errors(check(path))} == {line_of(path, "b -= lr * grad_s.mean(axis=0)")}


def test_the_files_own_loader_that_exits_is_given_synthetic_data_and_the_exit_is_told(tmp_path):
    path = write(tmp_path, "logit.py", LOGISTIC)
    report = check(path)
    assert errors(report) == []
    assert _step_names(report) == {"w", "bias"}
    (stopped,) = [f for f in report["findings"] if f["code"] == "BPD021"]
    assert stopped["line"] == line_of(path, "sys.exit(2)") and "exited" in stopped["message"]
    assert [f["line"] for f in _synthetic(report)] == [line_of(path, "= getData(")]


def test_a_sigmoid_derivative_in_the_output_error_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "logit.py", LOGISTIC, "err = out - Y", "err = (out - Y) * out * (1 - out)")
    assert {f["line"] for f in errors(check(path))} == {line_of(path, "err = (out - Y) * out * (1 - out)")}


def test_momentum_with_gradients_from_beside_and_only_a_test_cost_is_clean(tmp_path):
    write(tmp_path, "loaders.py", LOADERS)
    write(tmp_path, "grads.py", GRADIENTS)
    path = write(tmp_path, "momentum.py", MOMENTUM)
    report = check(path)
    assert errors(report) == []
    assert _step_names(report) == {"W1", "b1", "W2", "b2"}


def test_momentum_whose_hidden_gradient_misses_the_relu_derivative_is_found(tmp_path):
    write(tmp_path, "loaders.py", LOADERS)
    write(tmp_path, "grads.py", GRADIENTS.replace("return X.T.dot((Y - T).dot(W2.T) * (Z > 0))", "return X.T.dot((Y - T).dot(W2.T))"))
    path = write(tmp_path, "momentum.py", MOMENTUM)
    assert {f["line"] for f in errors(check(path))} == {line_of(path, "gW1 = grad_w1(")}


def test_a_loader_whose_result_is_not_named_as_data_is_not_stood_in_for(tmp_path):
    path = write(tmp_path, "logit.py", LOGISTIC.replace("X, Y = getData(", "table, column = getData("))
    report = check(path)
    assert _synthetic(report) == []
    assert [f["code"] for f in report["findings"] if f["code"] == "BPD007"] == ["BPD007"]


def test_arrays_named_train_images_and_test_labels_are_stood_in_for(tmp_path):
    write(tmp_path, "loaders.py", LOADERS)
    renamed = NET
    for old, new in (("Xtrain", "train_images"), ("Xtest", "test_images"), ("Ytrain", "train_labels"), ("Ytest", "test_labels")):
        renamed = renamed.replace(old, new)
    path = write(tmp_path, "net.py", renamed)
    report = check(path)
    assert errors(report) == []
    assert _step_names(report) == {"W1", "b1", "W2", "b2"}
    assert [f["line"] for f in _synthetic(report)] == [line_of(path, "= read_sales()")]


def test_a_program_that_exits_after_its_training_is_not_told_it_stopped(tmp_path):
    program = NET.replace("import numpy as np\n", "import sys\n\nimport numpy as np\n", 1).replace(
        "    Xtrain, Xtest, Ytrain, Ytest = read_sales()",
        "    Xtrain = np.random.randn(300, 5)\n    Ytrain = (Xtrain[:, 0] > 0).astype(int) + (Xtrain[:, 1] > 0).astype(int)",
    ).replace("    main()", "    sys.exit(main())")
    write(tmp_path, "loaders.py", LOADERS)
    path = write(tmp_path, "net.py", program)
    report = check(path)
    assert errors(report) == []
    assert [f for f in report["findings"] if f["code"] in ("BPD021", "BPD022")] == []
    assert _step_names(report) == {"W1", "b1", "W2", "b2"}
