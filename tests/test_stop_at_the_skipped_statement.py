"""A program whose data loader needs a library this machine lacks: the observed run skips
`Xtrain, Ytrain, Xtest, Ytest = get_data()`, which fails on the stand-in, and the next line fails
on the name it left unbound. The run is reported as stopped at the loader's line with the
stand-in's error, not at `D = Xtrain.shape[1]` with a NameError that hides the cause."""

from __future__ import annotations

from tests.userfiles import check, line_of, write

PROCESS = """\
import numpy as np
import tablelib_not_installed as tables


def get_data():
    data = tables.read_csv("shop_data.csv").to_numpy()
    np.random.shuffle(data)
    X, Y = data[:, :-1], data[:, -1].astype(np.int32)
    return X[:-100], Y[:-100], X[-100:], Y[-100:]
"""

TRAIN = """\
import numpy as np
from process import get_data


Xtrain, Ytrain, Xtest, Ytest = get_data()
D = Xtrain.shape[1]
W = np.random.randn(D, 4)
b = np.zeros(4)
T = np.eye(4)[Ytrain]
for i in range(100):
    Z = Xtrain.dot(W) + b
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    W -= 0.001 * Xtrain.T.dot(P - T)
    b -= 0.001 * (P - T).sum(axis=0)
"""


def test_the_run_stops_at_the_loader_that_failed_on_a_stand_in(tmp_path):
    write(tmp_path, "process.py", PROCESS)
    train = write(tmp_path, "train.py", TRAIN)
    report = check(train, training=True)
    (stopped,) = [f for f in report["findings"] if f["name"] == "program-stopped"]
    assert (stopped["file"], stopped["line"]) == (str(train), line_of(train, "= get_data()"))
    assert "NameError" not in stopped["message"] and "Stub" in stopped["message"]
