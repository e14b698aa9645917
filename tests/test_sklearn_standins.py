"""Scripts that train a NumPy network on data split, shuffled and scaled with scikit-learn reach
their training loop without scikit-learn: its helpers have NumPy stand-ins with the documented
behaviour (`loading.learn`), and the report says which were stood in for."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from backprop_doctor.loading import learn
from tests.userfiles import check, errors, line_of, planted, replayed, write

HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None

SCRIPT = '''\
import numpy as np
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler, OneHotEncoder
from sklearn.utils import shuffle

X, y = make_moons(n_samples=300, noise=0.2, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=1)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)
Y_train = OneHotEncoder().fit_transform(y_train.reshape(-1, 1)).toarray()

rng = np.random.default_rng(0)
W1 = rng.normal(size=(2, 12)) * 0.5
W2 = rng.normal(size=(12, 2)) * 0.5
for epoch in range(100):
    Xs, Ys = shuffle(X_train, Y_train, random_state=epoch)
    for i in range(0, len(Xs), 40):
        xb, yb = Xs[i:i + 40], Ys[i:i + 40]
        h = np.tanh(xb @ W1)
        s = h @ W2
        e = np.exp(s - s.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(yb * np.log(p), axis=1))
        ds = (p - yb) / len(xb)
        dW2 = h.T @ ds
        dW1 = xb.T @ (ds @ W2.T * (1 - h ** 2))
        W1 -= 0.3 * dW1
        W2 -= 0.3 * dW2
'''


def test_a_script_on_scikit_learn_data_is_checked_and_says_what_stood_in(tmp_path):
    report = check(write(tmp_path, "moons.py", SCRIPT))
    assert errors(report) == []
    assert {p["name"] for p in replayed(report)["parameters"]} == {"W1", "W2"}
    if not HAS_SKLEARN:
        notes = {f["line"]: f["message"] for f in report["findings"] if f["name"] == "missing-module"}
        assert "NumPy versions of `train_test_split`" in notes[3]
        assert "`StandardScaler`, `MinMaxScaler`, `OneHotEncoder`" in notes[4]
        assert "`shuffle`" in notes[5]


def test_a_wrong_gradient_in_such_a_script_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "moons.py", SCRIPT, "(1 - h ** 2)", "(1 - h)")
    (found,) = errors(check(path))
    assert found["name"] == "step-gradient-mismatch" and found["line"] == line_of(path, "dW1 = xb.T @")


@pytest.mark.parametrize("test_size, expected", [(None, 25), (0.2, 20), (30, 30)])
def test_train_test_split_splits_every_array_by_one_permutation(test_size, expected):
    x = np.arange(200).reshape(100, 2)
    y = np.arange(100)
    x_train, x_test, y_train, y_test = learn.train_test_split(x, y, test_size=test_size, random_state=3)
    assert (len(x_test), len(x_train)) == (expected, 100 - expected)
    assert np.array_equal(x_train[:, 0] // 2, y_train) and np.array_equal(x_test[:, 0] // 2, y_test)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(100))


def test_shuffle_keeps_rows_together_and_returns_one_array_alone():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    xs, ys = learn.shuffle(x, y, random_state=0)
    assert np.array_equal(xs[:, 0] // 2, ys) and not np.array_equal(ys, y)
    assert learn.shuffle(y, random_state=0).shape == (10,)


def test_scalers_and_encoders_follow_their_documented_behaviour():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    scaled = learn.StandardScaler().fit_transform(x)
    assert np.allclose(scaled.mean(axis=0), 0) and np.allclose(scaled[:, 0].std(), 1) and np.allclose(scaled[:, 1], 0)
    assert np.allclose(learn.MinMaxScaler().fit_transform(x)[:, 0], [0, 0.5, 1])
    hot = learn.OneHotEncoder().fit_transform(np.array([[2], [0], [2]]))
    assert np.array_equal(hot.toarray(), [[0, 1], [1, 0], [0, 1]])
    assert np.array_equal(learn.OneHotEncoder(sparse_output=False).fit_transform(np.array([[1], [3]])), [[1, 0], [0, 1]])
    assert learn.LabelBinarizer().fit_transform(["a", "b", "a"]).tolist() == [[0], [1], [0]]
    assert learn.LabelBinarizer().fit_transform([0, 2, 1]).shape == (3, 3)
    assert learn.LabelEncoder().fit_transform(["b", "a", "b"]).tolist() == [1, 0, 1]
    assert learn.to_categorical([1, 0], 3).tolist() == [[0, 1, 0], [1, 0, 0]]
    assert learn.accuracy_score([1, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3)
